// Words both front ends use, in Bahasa Indonesia.

/** A business's lifecycle status (BusinessStatus). */
export const businessStatus: Record<string, string> = {
  PROPOSED: "Diusulkan",
  APPROVED: "Disetujui",
  EQUIPPED: "Dibekali",
  RUNNING: "Berjalan",
  STALLED: "Macet",
  CLOSED: "Tutup",
  GRADUATED: "Naik kelas",
  REJECTED: "Ditolak",
};

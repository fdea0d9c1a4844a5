// Numbers, Rupiah and dates in Indonesian (or English) format, and CSV export.

export type Lang = "id" | "en";

const locale = (lang: Lang) => (lang === "id" ? "id-ID" : "en-GB");

export function number(lang: Lang, n: number, digits = 0): string {
  return new Intl.NumberFormat(locale(lang), { maximumFractionDigits: digits }).format(n);
}

export function rupiah(lang: Lang, n: number): string {
  return new Intl.NumberFormat(locale(lang), { style: "currency", currency: "IDR", maximumFractionDigits: 0 }).format(n);
}

/** Rupiah in short form: "Rp 7,23 M" (miliar), "Rp 735,6 jt" (juta). */
export function rupiahShort(lang: Lang, n: number): string {
  return new Intl.NumberFormat(locale(lang), {
    style: "currency",
    currency: "IDR",
    notation: "compact",
    maximumFractionDigits: 2,
  }).format(n);
}

export function percent(lang: Lang, share: number): string {
  return new Intl.NumberFormat(locale(lang), { style: "percent", maximumFractionDigits: 1 }).format(share);
}

export function date(lang: Lang, iso: string): string {
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${iso}T00:00:00Z`));
}

/** A table as CSV (RFC 4180, UTF-8 with a byte-order mark so spreadsheets read it as such). */
export function csv(header: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null) => {
    const s = v == null ? "" : String(v);
    // Text starting with = + - @, a tab or a carriage return would be a formula in a
    // spreadsheet: an apostrophe goes first. Only a plain number (-3, 1.5) stays as it is.
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return "\ufeff" + [header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** Offers `text` to the user as a file download. */
export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

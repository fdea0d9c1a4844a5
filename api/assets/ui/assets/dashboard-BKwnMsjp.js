class P extends Error{constructor(s,r,l){super(s),this.code=r,this.status=l}code;status}const H="sinergi.token",R={get token(){return sessionStorage.getItem(H)},signIn(e){sessionStorage.setItem(H,e.trim().replace(/^Bearer\s+/i,""))},signOut(){sessionStorage.removeItem(H)}};let F=!0;function ie(e){return!!e?.some(s=>s.message.startsWith("no document is registered under this documentId"))}async function W(e,s){const r=R.token;if(!r)throw new P("not signed in","UNAUTHENTICATED",401);const l=e.__meta__?.hash,i=h=>JSON.stringify(h&&l?{documentId:l,variables:s}:{query:e.toString(),variables:s}),d=h=>fetch("/graphql",{method:"POST",headers:{"Content-Type":"application/json",Accept:"application/json",Authorization:`Bearer ${r}`},body:i(h)});let o=await d(F),v=await o.json().catch(()=>null);if(F&&ie(v?.errors)&&(F=!1,o=await d(!1),v=await o.json().catch(()=>null)),!v||v.data==null){const h=v?.errors?.[0];throw new P(h?.message??`HTTP ${o.status}`,h?.extensions?.code??"UNAVAILABLE",o.status)}return{data:v.data,errors:v.errors??[]}}const M=e=>e==="id"?"id-ID":"en-GB";function $(e,s,r=0){return new Intl.NumberFormat(M(e),{maximumFractionDigits:r}).format(s)}function ee(e,s){return new Intl.NumberFormat(M(e),{style:"currency",currency:"IDR",maximumFractionDigits:0}).format(s)}function ae(e,s){return new Intl.NumberFormat(M(e),{style:"currency",currency:"IDR",notation:"compact",maximumFractionDigits:2}).format(s)}function J(e,s){return new Intl.NumberFormat(M(e),{style:"percent",maximumFractionDigits:1}).format(s)}function le(e,s){const r=l=>{const i=l==null?"":String(l),d=/^[=+\-@]/.test(i)&&!/^-?\d/.test(i)?`'${i}`:i;return/[",\n\r]/.test(d)?`"${d.replace(/"/g,'""')}"`:d};return"\uFEFF"+[e,...s].map(l=>l.map(r).join(",")).join(`\r
`)+`\r
`}function ue(e,s){const r=URL.createObjectURL(new Blob([s],{type:"text/csv;charset=utf-8"})),l=document.createElement("a");l.href=r,l.download=e,document.body.append(l),l.click(),l.remove(),setTimeout(()=>URL.revokeObjectURL(r),1e3)}class j extends String{__apiType;value;__meta__;constructor(s,r){super(s),this.value=s,this.__meta__=r}toString(){return this.value}}new j(`
    fragment Area on AreaStatistics {
  regencyCode
  name
  recipients {
    value
    suppressed
  }
  packageValue {
    value
    suppressed
  }
  packagesDisbursed {
    value
    suppressed
  }
  businessesByStatus {
    status
    count {
      value
      suppressed
    }
  }
  businessesByLevel {
    level
    count {
      value
      suppressed
    }
  }
  equipped {
    value
    suppressed
  }
  graduated {
    value
    suppressed
  }
  relapsed {
    value
    suppressed
  }
  graduationRate
  referrals {
    toAgency
    status
    count {
      value
      suppressed
    }
  }
  infrastructureRequests {
    kind
    status
    count {
      value
      suppressed
    }
  }
  marketServices {
    kind
    status
    count {
      value
      suppressed
    }
  }
  loans {
    status
    count {
      value
      suppressed
    }
    requested {
      value
      suppressed
    }
    approved {
      value
      suppressed
    }
  }
  survival {
    months
    reached {
      value
      suppressed
    }
    running {
      value
      suppressed
    }
    share
    baseline
    aboveBaseline
  }
  handovers {
    toAgency
    made {
      value
      suppressed
    }
    accepted {
      value
      suppressed
    }
    completed {
      value
      suppressed
    }
    medianDaysToAccept
    medianDaysToComplete
    overdue {
      value
      suppressed
    }
    overdueShare
  }
}
    `,{fragmentName:"Area"});const oe=new j(`
    query DashboardMe {
  me {
    agency
    client
    scopes
    regions
  }
  regions {
    code
    name
  }
}
    `,{hash:"05691161df1a198979bf8f61c3c375a5c287cdb80f850b2e3d3d6efd2e48f75e"}),ce=new j(`
    query DashboardStatistics($year: Int!, $regencyCodes: [String!]) {
  programmeStatistics(year: $year, regencyCodes: $regencyCodes) {
    year
    minimumCell
    regencies {
      ...Area
    }
    total {
      ...Area
    }
  }
}
    fragment Area on AreaStatistics {
  regencyCode
  name
  recipients {
    value
    suppressed
  }
  packageValue {
    value
    suppressed
  }
  packagesDisbursed {
    value
    suppressed
  }
  businessesByStatus {
    status
    count {
      value
      suppressed
    }
  }
  businessesByLevel {
    level
    count {
      value
      suppressed
    }
  }
  equipped {
    value
    suppressed
  }
  graduated {
    value
    suppressed
  }
  relapsed {
    value
    suppressed
  }
  graduationRate
  referrals {
    toAgency
    status
    count {
      value
      suppressed
    }
  }
  infrastructureRequests {
    kind
    status
    count {
      value
      suppressed
    }
  }
  marketServices {
    kind
    status
    count {
      value
      suppressed
    }
  }
  loans {
    status
    count {
      value
      suppressed
    }
    requested {
      value
      suppressed
    }
    approved {
      value
      suppressed
    }
  }
  survival {
    months
    reached {
      value
      suppressed
    }
    running {
      value
      suppressed
    }
    share
    baseline
    aboveBaseline
  }
  handovers {
    toAgency
    made {
      value
      suppressed
    }
    accepted {
      value
      suppressed
    }
    completed {
      value
      suppressed
    }
    medianDaysToAccept
    medianDaysToComplete
    overdue {
      value
      suppressed
    }
    overdueShare
  }
}`,{hash:"a76382e69b5237fb54860d1f94d47fa0f50f22ae17df76bca7ce3516a726a6fb"}),de=new j(`
    query DashboardBusinesses($regencyCodes: [String!], $statuses: [BusinessStatus!], $after: String) {
  businesses(
    first: 50
    after: $after
    filter: {regencyCodes: $regencyCodes, statuses: $statuses}
  ) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      id
      name
      sector
      status
      level
      regencyCode
      startedOn
      monthlyRevenue
    }
  }
}
    `,{hash:"5b8006284ccbe73da54efb718524c1a729755e631ef31f14938af3906fdba802"});function S(e,s){return e[s]??s}const te={title:"Dasbor Program Sinergi",signIn:"Masuk",signOut:"Keluar",token:"Token akses",signInHelp:"Tempel token akses instansi Anda (dengan cakupan stats:read). Token hanya disimpan di tab ini dan hilang saat tab ditutup.",sessionOnly:"Token tidak dikirim ke mana pun selain gateway ini.",needsStats:"Token ini tidak memiliki cakupan stats:read, yang diperlukan dasbor.",otherLanguage:"English",loading:"Memuat…",year:"Tahun",region:"Wilayah",allRegions:"Semua kabupaten/kota",outsideRegions:"Di luar wilayah token",hidden:"disembunyikan",none:"Tidak ada data.",exportCsv:"Unduh CSV",drillHint:"Klik untuk melihat daftar usaha",suppressedNote:e=>`Angka 1 sampai ${e-1} disembunyikan (<${e}) agar tidak ada orang yang dapat dikenali.`,nothingSuppressed:"Token ini boleh melihat data pribadi: tidak ada angka yang disembunyikan.",recipients:"Penerima paket",packageValue:"Nilai paket",disbursed:"Tersalurkan",equipped:"Usaha dibekali",graduated:"Naik kelas",graduationRate:"Tingkat kelulusan",relapsed:"Kambuh setelah lulus",survival12:"Ketahanan 12 bulan",baseline:"Acuan KUBE",map:"Peta kabupaten/kota",mapFigure:"Angka:",mapNote:"Warna lebih gelap berarti angka lebih besar. Klik kabupaten/kota untuk daftar usahanya.",figures:{recipients:"Penerima paket",packageValue:"Nilai paket",equipped:"Usaha dibekali",graduated:"Naik kelas",graduationRate:"Tingkat kelulusan",survival12:"Ketahanan 12 bulan"},packages:"Paket usaha",packagesTable:"Penerima dan nilai paket per kabupaten/kota",regency:"Kabupaten/kota",total:"Total",businesses:"Usaha menurut status",businessesTable:"Kohort usaha per status",businessesCount:"Jumlah usaha",ladder:"Tangga naik kelas",ladderNote:"Usaha kohort tahun ini pada setiap tingkat atau di atasnya (L1–L6).",ladderTable:"Usaha per tingkat",level:"Tingkat",levelZero:"Belum di tingkat 1",survival:"Ketahanan usaha",survivalNote:"Bagian usaha yang masih berjalan 3, 6, 12 dan 24 bulan setelah paket diserahkan, dibandingkan dengan 46% model KUBE.",survivalTable:"Ketahanan per kabupaten/kota (berjalan/mencapai)",months:"bulan",handovers:"Rujukan antar-OPD",handoversTable:"Serah terima per OPD penerima",handoverHeader:["OPD penerima","Dibuat","Diterima","Selesai","Median hari diterima","Median hari selesai","Terlambat","Bagian terlambat"],referralsTable:"Rujukan per OPD dan status",agency:"OPD",statusWord:"Status",kind:"Jenis",count:"Jumlah",otherWork:"Infrastruktur, layanan pasar dan pinjaman",infrastructure:"Permintaan infrastruktur",marketServices:"Layanan pasar DISPERINDAGKOP",loans:"Pinjaman",requested:"Diajukan",approved:"Disetujui",list:"Daftar usaha",listHeader:["Nama usaha","Sektor","Status","Tingkat","Kabupaten/kota","Omzet/bulan"],more:"Muat lagi",errors:{UNAUTHENTICATED:"Token tidak diterima: masuk lagi dengan token yang berlaku.",FORBIDDEN:"Token ini tidak boleh membaca data tersebut.",RATE_LIMITED:"Terlalu banyak permintaan; coba lagi sebentar lagi.",UNAVAILABLE:"Gateway tidak dapat dihubungi; coba lagi nanti."},status:{PROPOSED:"Diusulkan",APPROVED:"Disetujui",EQUIPPED:"Dibekali",RUNNING:"Berjalan",STALLED:"Macet",CLOSED:"Tutup",GRADUATED:"Naik kelas",REJECTED:"Ditolak"},sector:{FOOD:"Makanan",BEVERAGE:"Minuman",FRIED_SNACKS:"Gorengan",CAKES:"Kue",POULTRY:"Unggas",MOTORBIKE_REPAIR:"Bengkel motor",GROCERY:"Kelontong",TAILORING:"Jahit",CRAFT:"Kerajinan",FISHERY:"Perikanan",AGRICULTURE:"Pertanian",SERVICES:"Jasa",OTHER:"Lainnya"},referralStatus:{OPEN:"Terbuka",ACCEPTED:"Diterima",COMPLETED:"Selesai",DECLINED:"Ditolak",CANCELLED:"Dibatalkan"},infrastructureKind:{LIVABLE_HOUSING:"Rumah layak huni",SANITATION:"Sanitasi",CLEAN_WATER:"Air bersih",ELECTRICITY:"Listrik",OTHER:"Lainnya"},requestStatus:{SUBMITTED:"Diajukan",SURVEYED:"Disurvei",APPROVED:"Disetujui",IN_PROGRESS:"Dikerjakan",COMPLETED:"Selesai",REJECTED:"Ditolak"},marketKind:{MARKETING:"Pemasaran",MARKET_PLACEMENT:"Gerai/pasar",ECOMMERCE_PLACEMENT:"Toko daring",COOPERATIVE_MEMBERSHIP:"Anggota koperasi",PRODUCT_REGISTRATION:"PIRT/registrasi",HALAL_CERTIFICATION:"Sertifikasi halal",BUSINESS_COACHING:"Pendampingan"},serviceStatus:{PLANNED:"Direncanakan",IN_PROGRESS:"Berjalan",COMPLETED:"Selesai",CANCELLED:"Dibatalkan"},loanStatus:{DRAFT:"Draf",SUBMITTED:"Diajukan",UNDER_REVIEW:"Ditinjau",APPROVED:"Disetujui",DISBURSED:"Dicairkan",REJECTED:"Ditolak",WITHDRAWN:"Ditarik"}},pe={...te,title:"Sinergi Programme Dashboard",signIn:"Sign in",signOut:"Sign out",token:"Access token",signInHelp:"Paste your agency's access token (with the stats:read scope). It is kept in this tab only and gone when the tab closes.",sessionOnly:"The token is sent nowhere but this gateway.",needsStats:"This token lacks the stats:read scope the dashboard needs.",otherLanguage:"Bahasa Indonesia",loading:"Loading…",year:"Year",region:"Region",allRegions:"All regencies/cities",outsideRegions:"Outside the token's regions",hidden:"suppressed",none:"No data.",exportCsv:"Download CSV",drillHint:"Click for the list of businesses",suppressedNote:e=>`Counts from 1 to ${e-1} are suppressed (<${e}) so that no person can be singled out.`,nothingSuppressed:"This token may see personal data: nothing is suppressed.",recipients:"Package recipients",packageValue:"Package value",disbursed:"Disbursed",equipped:"Businesses equipped",graduated:"Graduated",graduationRate:"Graduation rate",relapsed:"Relapsed after graduating",survival12:"12-month survival",baseline:"KUBE baseline",map:"Regencies and cities",mapFigure:"Figure:",mapNote:"Darker means a larger figure. Click a regency/city for its businesses.",figures:{recipients:"Package recipients",packageValue:"Package value",equipped:"Businesses equipped",graduated:"Graduated",graduationRate:"Graduation rate",survival12:"12-month survival"},packages:"Starter packages",packagesTable:"Recipients and package value by regency/city",regency:"Regency/city",businesses:"Businesses by status",businessesTable:"The cohort's businesses by status",businessesCount:"Businesses",ladder:"Graduation ladder",ladderNote:"The year's cohort at each level or above (L1–L6).",ladderTable:"Businesses by level",level:"Level",levelZero:"Not yet on level 1",survival:"Business survival",survivalNote:"Share of businesses still running 3, 6, 12 and 24 months after their package was delivered, against the 46% of the KUBE model.",survivalTable:"Survival by regency/city (running/reached)",months:"months",handovers:"Referrals between agencies",handoversTable:"Handover by receiving agency",handoverHeader:["Receiving agency","Made","Accepted","Completed","Median days to accept","Median days to complete","Overdue","Overdue share"],referralsTable:"Referrals by agency and status",agency:"Agency",kind:"Kind",count:"Count",otherWork:"Infrastructure, market services and loans",infrastructure:"Infrastructure requests",marketServices:"DISPERINDAGKOP market services",loans:"Loans",requested:"Requested",approved:"Approved",list:"Businesses",listHeader:["Business","Sector","Status","Level","Regency/city","Revenue/month"],more:"Load more",errors:{UNAUTHENTICATED:"The token was not accepted: sign in again with a valid token.",FORBIDDEN:"This token may not read that.",RATE_LIMITED:"Too many requests; try again shortly.",UNAVAILABLE:"The gateway cannot be reached; try again later."},status:{},sector:{},referralStatus:{},infrastructureKind:{},requestStatus:{},marketKind:{},serviceStatus:{},loanStatus:{}},se={id:te,en:pe},u={lang:localStorage.getItem("sinergi.lang")||"id",year:new Date().getFullYear()-1,regency:"",figure:"recipients",names:new Map,minimumCell:1,areas:[],total:null};let a=se[u.lang];function n(e,s={},...r){const l=document.createElement(e);for(const[i,d]of Object.entries(s))typeof d=="function"?l.addEventListener(i.replace(/^on/,""),d):d===!0?l.setAttribute(i,""):d!==!1&&l.setAttribute(i,d);for(const i of r.flat())i!=null&&i!==!1&&l.append(i instanceof Node?i:String(i));return l}const ge="http://www.w3.org/2000/svg";function A(e,s,r){const l=document.createElementNS(ge,e);for(const[i,d]of Object.entries(s))l.setAttribute(i,String(d));return r!=null&&(l.textContent=r),l}function g(e){return e?e.suppressed?`<${u.minimumCell}`:$(u.lang,e.value??0):"–"}function B(e){return e?e.suppressed?a.hidden:ee(u.lang,e.value??0):"–"}function I(e){return e==null?"–":J(u.lang,e)}function z(e){return e==null?"–":$(u.lang,e,1)}function w(e,s){return e&&u.names.get(e)||s}function ne(e,s){return w(e,s).replace(/^Kabupaten /,"")}function E(e){const s=()=>ue(`sinergi-${e.id}-${u.year}.csv`,le(e.header,e.rows.map(r=>r.raw)));return n("div",{class:"table","data-table":e.id},n("div",{class:"table-head"},n("h3",{},e.title),n("button",{type:"button",class:"link",onclick:s,"data-csv":e.id},a.exportCsv)),e.rows.length===0?n("p",{class:"empty"},a.none):n("table",{},n("thead",{},n("tr",{},e.header.map(r=>n("th",{scope:"col"},r)))),n("tbody",{},e.rows.map(r=>n("tr",r.drill?{class:"drill",tabindex:"0",onclick:()=>K(r.drill),title:a.drillHint}:{},r.cells.map((l,i)=>n(i===0?"th":"td",i===0?{scope:"row"}:{},l)))))))}const m=e=>e&&!e.suppressed?e.value??0:null;function L(e,s,r){const v=Math.max(1,...s.map(p=>p.value??0),r?.at??0),h=s.length*26+(r?22:6),c=A("svg",{viewBox:`0 0 640 ${h}`,role:"img","data-chart":e,class:"chart"});if(s.forEach((p,N)=>{const f=N*26+4,T=A("g",{"data-label":p.label,"data-value":p.value==null?"":p.value});T.append(A("text",{x:162,y:f+15,"text-anchor":"end",class:"label"},p.label));const t=p.value==null?0:340*p.value/v;T.append(A("rect",{x:170,y:f,width:Math.max(t,p.value?2:0),height:18,rx:3,class:"bar"})),T.append(A("text",{x:170+t+6,y:f+15,class:"value"},p.text)),p.drill&&(T.setAttribute("class","drill"),T.setAttribute("tabindex","0"),T.addEventListener("click",()=>K(p.drill))),c.append(T)}),r){const p=170+340*r.at/v;c.append(A("line",{x1:p,x2:p,y1:0,y2:h-18,class:"baseline"})),c.append(A("text",{x:p,y:h-4,"text-anchor":"middle",class:"baseline-label"},r.label))}return c}const me={6403:[3,1],6411:[1,2],6408:[3,2],6407:[1,3],6402:[2,3],6472:[3,3],6474:[4,3],6409:[2,4],6471:[3,4],6401:[2,5]};function Q(e,s){switch(s){case"recipients":return{value:m(e.recipients),text:g(e.recipients)};case"packageValue":return{value:m(e.packageValue),text:e.packageValue.suppressed?a.hidden:ae(u.lang,e.packageValue.value??0)};case"equipped":return{value:m(e.equipped),text:g(e.equipped)};case"graduated":return{value:m(e.graduated),text:g(e.graduated)};case"graduationRate":return{value:e.graduationRate??null,text:I(e.graduationRate)};case"survival12":{const r=e.survival.find(l=>l.months===12);return{value:r?.share??null,text:I(r?.share)}}}}function he(){const e=u.areas.map(o=>Q(o,u.figure).value).filter(o=>o!=null),[s,r]=[Math.min(...e),Math.max(...e)],l=new Map(u.areas.map(o=>[o.regencyCode??"",o])),i=Object.entries(me).map(([o,[v,h]])=>{const c=l.get(o),p=c?Q(c,u.figure):null,N=p?.value==null||r<=0?0:r===s?4:1+Math.min(3,Math.floor((p.value-s)/(r-s)*4)),f=n("button",{type:"button",class:`tile level-${c?N:"none"}`,"data-regency":o,"data-value":p?.value==null?"":String(p.value),disabled:!c,title:c?a.drillHint:a.outsideRegions,onclick:()=>K({regency:o})},n("span",{class:"tile-name"},ne(o,o)),n("span",{class:"tile-value"},p?p.text:"–"));return f.style.gridColumn=String(v),f.style.gridRow=String(h),f}),d=n("select",{id:"figure","aria-label":a.mapFigure,onchange:o=>{u.figure=o.target.value,re()}},Object.keys(a.figures).map(o=>n("option",{value:o,selected:o===u.figure},a.figures[o])));return n("section",{id:"peta",class:"card"},n("div",{class:"table-head"},n("h2",{},a.map),n("label",{},`${a.mapFigure} `,d)),n("div",{class:"tiles"},i),n("p",{class:"note"},a.mapNote))}async function K(e,s,r=[]){const l=document.getElementById("daftar");l.replaceChildren(n("h2",{},a.list),n("p",{},a.loading)),l.scrollIntoView({behavior:"smooth",block:"start"});try{const{data:i}=await W(de,{regencyCodes:e.regency?[e.regency]:u.regency?[u.regency]:null,statuses:e.status?[e.status]:null,after:s??null}),d=i.businesses,o=[...r,...d.nodes],v=[a.list,e.regency?w(e.regency,e.regency):a.allRegions,e.status?S(a.status,e.status):null].filter(Boolean).join(" · "),h=E({id:"daftar-usaha",title:`${v} (${$(u.lang,o.length)} / ${$(u.lang,d.totalCount??o.length)})`,header:a.listHeader,rows:o.map(c=>({cells:[c.name,S(a.sector,c.sector),S(a.status,c.status),`L${c.level}`,w(c.regencyCode,c.regencyCode),c.monthlyRevenue==null?"–":ee(u.lang,c.monthlyRevenue)],raw:[c.name,c.sector,c.status,c.level,c.regencyCode,c.monthlyRevenue??null]}))});l.replaceChildren(n("h2",{},a.list),h,d.pageInfo.hasNextPage?n("button",{type:"button",onclick:()=>K(e,d.pageInfo.endCursor,o)},a.more):"")}catch(i){l.replaceChildren(n("h2",{},a.list),Y(i))}}function Y(e){const s=e instanceof P?a.errors[e.code]??e.message:a.errors.UNAVAILABLE;return n("p",{class:"error",role:"alert"},s)}function ve(e){const s=e.survival.find(d=>d.months===12),r=(d,o,v,h,c)=>n("div",{class:"stat","data-stat":d},n("span",{class:"stat-title"},o),n("strong",c?{title:c}:{},v),h?n("span",{class:"stat-note"},h):null),l=e.packageValue,i=l.suppressed?a.hidden:ae(u.lang,l.value??0);return n("section",{id:"ringkasan",class:"stats"},r("recipients",a.recipients,g(e.recipients)),r("packageValue",a.packageValue,i,void 0,B(l)),r("equipped",a.equipped,g(e.equipped)),r("graduated",a.graduated,g(e.graduated),`${a.graduationRate}: ${I(e.graduationRate)}`),r("survival12",a.survival12,I(s?.share),`${a.baseline}: ${J(u.lang,s?.baseline??.46)}`),r("relapsed",a.relapsed,g(e.relapsed)))}function ke(){const e=u.areas,s=u.total,r=(t,k=g)=>e.map(y=>({label:ne(y.regencyCode,y.name),value:m(t(y)),text:k(t(y)),drill:{regency:y.regencyCode??void 0}})),l=n("section",{id:"paket",class:"card"},n("h2",{},a.packages),n("h3",{},a.recipients),L("recipients",r(t=>t.recipients)),n("h3",{},a.packageValue),L("packageValue",r(t=>t.packageValue,B)),E({id:"paket",title:a.packagesTable,header:[a.regency,a.recipients,a.disbursed,a.packageValue],rows:[...e,s].map(t=>({cells:[w(t.regencyCode,a.total),g(t.recipients),g(t.packagesDisbursed),B(t.packageValue)],raw:[t.regencyCode??a.total,m(t.recipients),m(t.packagesDisbursed),m(t.packageValue)],drill:t.regencyCode?{regency:t.regencyCode}:void 0}))})),i=s.businessesByStatus.map(t=>t.status),d=n("section",{id:"usaha",class:"card"},n("h2",{},a.businesses),L("businessesByStatus",s.businessesByStatus.map(t=>({label:S(a.status,t.status),value:m(t.count),text:g(t.count),drill:{status:t.status}}))),E({id:"usaha-status",title:a.businessesTable,header:[a.regency,...i.map(t=>S(a.status,t))],rows:[...e,s].map(t=>({cells:[w(t.regencyCode,a.total),...i.map(k=>g(t.businessesByStatus.find(y=>y.status===k)?.count))],raw:[t.regencyCode??a.total,...i.map(k=>m(t.businessesByStatus.find(y=>y.status===k)?.count))],drill:t.regencyCode?{regency:t.regencyCode}:void 0}))})),o=[...s.businessesByLevel].sort((t,k)=>t.level-k.level),v=o.map((t,k)=>{const y=o.slice(k),q=y.some(C=>C.count.suppressed);return{level:t.level,value:q?null:y.reduce((C,V)=>C+(V.count.value??0),0),hidden:q}}),h=n("section",{id:"tangga",class:"card"},n("h2",{},a.ladder),n("p",{class:"note"},a.ladderNote),L("ladder",v.map(t=>({label:t.level===0?a.levelZero:`${a.level} ${t.level}+`,value:t.value,text:t.hidden?a.hidden:$(u.lang,t.value??0)}))),E({id:"tangga",title:a.ladderTable,header:[a.level,a.businessesCount],rows:o.map(t=>({cells:[`L${t.level}`,g(t.count)],raw:[t.level,m(t.count)]}))})),c=s.survival,p=n("section",{id:"ketahanan",class:"card"},n("h2",{},a.survival),n("p",{class:"note"},a.survivalNote),L("survival",c.map(t=>({label:`${t.months} ${a.months}`,value:t.share??null,text:I(t.share)})),{at:c[0]?.baseline??.46,label:`KUBE ${J(u.lang,c[0]?.baseline??.46)}`}),E({id:"ketahanan",title:a.survivalTable,header:[a.regency,...c.map(t=>`${t.months} ${a.months}`)],rows:[...e,s].map(t=>({cells:[w(t.regencyCode,a.total),...t.survival.map(k=>`${I(k.share)} (${g(k.running)}/${g(k.reached)})`)],raw:[t.regencyCode??a.total,...t.survival.map(k=>k.share??null)]}))})),N=n("section",{id:"rujukan",class:"card"},n("h2",{},a.handovers),E({id:"rujukan",title:a.handoversTable,header:a.handoverHeader,rows:s.handovers.map(t=>({cells:[t.toAgency,g(t.made),g(t.accepted),g(t.completed),z(t.medianDaysToAccept),z(t.medianDaysToComplete),g(t.overdue),I(t.overdueShare)],raw:[t.toAgency,m(t.made),m(t.accepted),m(t.completed),t.medianDaysToAccept??null,t.medianDaysToComplete??null,m(t.overdue),t.overdueShare??null]}))}),E({id:"rujukan-status",title:a.referralsTable,header:[a.agency,a.statusWord,a.count],rows:s.referrals.map(t=>({cells:[t.toAgency,S(a.referralStatus,t.status),g(t.count)],raw:[t.toAgency,t.status,m(t.count)]}))})),f=(t,k,y,q,C)=>{const V=[...new Set(C.map(b=>b.kind))],_=[...new Set(C.map(b=>b.status))],Z=(b,O)=>C.find(D=>D.kind===b&&D.status===O)?.count;return E({id:t,title:k,header:[a.kind,..._.map(b=>S(q,b))],rows:V.map(b=>({cells:[S(y,b),..._.map(O=>{const D=Z(b,O);return D?g(D):"0"})],raw:[b,..._.map(O=>{const D=Z(b,O);return D?m(D):0})]}))})},T=n("section",{id:"lainnya",class:"card"},n("h2",{},a.otherWork),f("infrastruktur",a.infrastructure,a.infrastructureKind,a.requestStatus,s.infrastructureRequests),f("layanan-pasar",a.marketServices,a.marketKind,a.serviceStatus,s.marketServices),E({id:"pinjaman",title:a.loans,header:[a.statusWord,a.count,a.requested,a.approved],rows:s.loans.map(t=>({cells:[S(a.loanStatus,t.status),g(t.count),B(t.requested),B(t.approved)],raw:[t.status,m(t.count),m(t.requested),m(t.approved)]}))}));return[ve(s),he(),l,d,h,p,N,T,n("section",{id:"daftar",class:"card"})]}function ye(e){const s=new Date().getFullYear(),r=Array.from({length:6},(i,d)=>s-d),l=[...u.names.entries()].filter(([i])=>i.length===4&&(e.includes("64")||e.includes(i)));return n("form",{class:"controls",onsubmit:i=>i.preventDefault()},n("label",{},`${a.year} `,n("select",{id:"year",onchange:i=>{u.year=Number(i.target.value),x()}},r.map(i=>n("option",{value:String(i),selected:i===u.year},i)))),n("label",{},`${a.region} `,n("select",{id:"regency",onchange:i=>{u.regency=i.target.value,x()}},n("option",{value:""},a.allRegions),l.map(([i,d])=>n("option",{value:i,selected:i===u.regency},d)))),n("button",{type:"button",id:"lang",onclick:()=>{u.lang=u.lang==="id"?"en":"id",localStorage.setItem("sinergi.lang",u.lang),a=se[u.lang],document.documentElement.lang=u.lang,U()}},a.otherLanguage),n("button",{type:"button",id:"signout",onclick:()=>{R.signOut(),U()}},a.signOut))}let X=[];function re(){document.getElementById("content").replaceChildren(n("p",{class:"note",id:"cell-note"},u.minimumCell>1?a.suppressedNote(u.minimumCell):a.nothingSuppressed),...ke())}async function x(){delete document.body.dataset.ready;const e=document.getElementById("content");e.replaceChildren(n("p",{},a.loading));try{const{data:s}=await W(ce,{year:u.year,regencyCodes:u.regency?[u.regency]:null}),r=s.programmeStatistics;u.minimumCell=r.minimumCell,u.areas=r.regencies,u.total=r.total,re(),document.body.dataset.ready="true"}catch(s){if(s instanceof P&&s.code==="UNAUTHENTICATED")return R.signOut(),U(a.errors.UNAUTHENTICATED);e.replaceChildren(Y(s))}}function G(e){const s=document.getElementById("app"),r=n("textarea",{id:"token",rows:"4",required:!0,autocomplete:"off",spellcheck:"false",placeholder:"eyJ…"});s.replaceChildren(n("form",{class:"signin card",onsubmit:l=>{l.preventDefault(),R.signIn(r.value),U()}},n("h1",{},a.title),n("p",{},a.signInHelp),e?n("p",{class:"error",role:"alert"},e):null,n("label",{for:"token"},a.token),r,n("button",{type:"submit"},a.signIn),n("p",{class:"note"},a.sessionOnly)))}async function U(e){if(document.documentElement.lang=u.lang,document.title=a.title,delete document.body.dataset.ready,!R.token)return G(e);const s=document.getElementById("app");s.replaceChildren(n("p",{},a.loading));try{const{data:r}=await W(oe,{});if(u.names=new Map(r.regions.map(l=>[l.code,l.name])),X=r.me.regions,!r.me.scopes.includes("stats:read"))return R.signOut(),G(a.needsStats);s.replaceChildren(n("header",{},n("div",{},n("h1",{},a.title),n("p",{class:"who"},`${r.me.agency} / ${r.me.client}`)),ye(X)),n("main",{id:"content"})),await x()}catch(r){if(r instanceof P&&r.code==="UNAUTHENTICATED")return R.signOut(),G(`${a.errors.UNAUTHENTICATED} (${r.message})`);s.replaceChildren(Y(r))}}U();

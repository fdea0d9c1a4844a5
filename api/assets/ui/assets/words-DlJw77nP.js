class p extends Error{constructor(s,r,t){super(s),this.code=r,this.status=t}code;status}const l="sinergi.token",v=e=>e.trim().replace(/^Bearer\s+/i,""),g={storage:sessionStorage,get token(){return this.storage.getItem(l)},signIn(e){this.storage.setItem(l,v(e))},signOut(){this.storage.removeItem(l)}};let m=!0;function h(e){return!!e?.some(s=>s.message.startsWith("no document is registered under this documentId"))}async function b(e,s,r){const t=r&&v(r)||g.token;if(!t)throw new p("not signed in","UNAUTHENTICATED",401);const a=e.__meta__?.hash,n=c=>JSON.stringify(c&&a?{documentId:a,variables:s}:{query:e.toString(),variables:s}),f=c=>fetch("/graphql",{method:"POST",headers:{"Content-Type":"application/json",Accept:"application/json",Authorization:`Bearer ${t}`},body:n(c)});let i,u;try{i=await f(m),u=await i.json().catch(()=>null),m&&h(u?.errors)&&(m=!1,i=await f(!1),u=await i.json().catch(()=>null))}catch{throw new p("the gateway cannot be reached","UNAVAILABLE",0)}if(!u||u.data==null){const c=u?.errors?.[0];throw new p(c?.message??`HTTP ${i.status}`,c?.extensions?.code??"UNAVAILABLE",i.status)}return{data:u.data,errors:u.errors??[]}}function y(e,s={},...r){const t=document.createElement(e);for(const[a,n]of Object.entries(s))typeof n=="function"?t.addEventListener(a.replace(/^on/,""),n):n===!0?t.setAttribute(a,""):n!==!1&&t.setAttribute(a,n);for(const a of r.flat())a!=null&&a!==!1&&t.append(a instanceof Node?a:String(a));return t}const d=e=>e==="id"?"id-ID":"en-GB";function D(e,s,r=0){return new Intl.NumberFormat(d(e),{maximumFractionDigits:r}).format(s)}function S(e,s){return new Intl.NumberFormat(d(e),{style:"currency",currency:"IDR",maximumFractionDigits:0}).format(s)}function w(e,s){return new Intl.NumberFormat(d(e),{style:"currency",currency:"IDR",notation:"compact",maximumFractionDigits:2}).format(s)}function A(e,s){return new Intl.NumberFormat(d(e),{style:"percent",maximumFractionDigits:1}).format(s)}function I(e,s){return new Intl.DateTimeFormat(d(e),{dateStyle:"medium",timeZone:"UTC"}).format(new Date(`${s}T00:00:00Z`))}function k(e,s){const r=t=>{const a=t==null?"":String(t),n=/^[=+\-@\t\r]/.test(a)&&!/^-?\d+(\.\d+)?$/.test(a)?`'${a}`:a;return/[",\n\r]/.test(n)?`"${n.replace(/"/g,'""')}"`:n};return"\uFEFF"+[e,...s].map(t=>t.map(r).join(",")).join(`\r
`)+`\r
`}function E(e,s){const r=URL.createObjectURL(new Blob([s],{type:"text/csv;charset=utf-8"})),t=document.createElement("a");t.href=r,t.download=e,document.body.append(t),t.click(),t.remove(),setTimeout(()=>URL.revokeObjectURL(r),1e3)}class o extends String{__apiType;value;__meta__;constructor(s,r){super(s),this.value=s,this.__meta__=r}toString(){return this.value}}new o(`
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
    `,{fragmentName:"Area"});const C=new o(`
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
    `,{hash:"05691161df1a198979bf8f61c3c375a5c287cdb80f850b2e3d3d6efd2e48f75e"}),T=new o(`
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
}`,{hash:"a76382e69b5237fb54860d1f94d47fa0f50f22ae17df76bca7ce3516a726a6fb"}),$=new o(`
    query DashboardBusinesses($year: Int!, $regencyCodes: [String!], $statuses: [BusinessStatus!], $after: String) {
  businesses(
    first: 50
    after: $after
    filter: {cohortYear: $year, regencyCodes: $regencyCodes, statuses: $statuses}
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
    `,{hash:"fc500bb6769e4a694ee3ef4d630eb1412ae124ee4a4302196d95429eb54ee8ee"}),R=new o(`
    query FieldMe {
  me {
    agency
    client
    regions
    volunteerId
  }
}
    `,{hash:"82398f99914deadb989dddea2679eb953eba038a20dbb886918883bc3937e2fb"}),F=new o(`
    query FieldCases($volunteer: UUID!) {
  volunteer(id: $volunteer) {
    id
    name
    regencyCode
    status
    businesses {
      id
      name
      sector
      status
      owner {
        id
        fullName
        address
        phone
      }
      monitoringVisits(first: 1) {
        nodes {
          id
          visitedOn
          observedStatus
          revenueEstimate
        }
      }
    }
  }
}
    `,{hash:"a70e99f8157b1df287ccd96f1503a9991bc5a30ee5036533ea0fa6a16c5ce714"}),N=new o(`
    mutation FieldRecordVisit($input: RecordMonitoringVisitInput!) {
  recordMonitoringVisit(input: $input) {
    monitoringVisit {
      id
      visitedOn
      observedStatus
    }
    userErrors {
      code
      field
      message
    }
  }
}
    `,{hash:"dc5d3d5e3e5f3812a724d0c5f581492063665436f32fccf4ce15f1fbc8763bb0"}),B={PROPOSED:"Diusulkan",APPROVED:"Disetujui",EQUIPPED:"Dibekali",RUNNING:"Berjalan",STALLED:"Macet",CLOSED:"Tutup",GRADUATED:"Naik kelas",REJECTED:"Ditolak"};export{C as D,F,p as R,T as a,B as b,S as c,w as d,$ as e,E as f,k as g,y as h,R as i,I as j,N as k,D as n,A as p,b as r,g as s};

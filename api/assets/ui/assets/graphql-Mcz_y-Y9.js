class p extends Error{constructor(s,a,t){super(s),this.code=a,this.status=t}code;status}const l="sinergi.token",v={storage:sessionStorage,get token(){return this.storage.getItem(l)},signIn(e){this.storage.setItem(l,e.trim().replace(/^Bearer\s+/i,""))},signOut(){this.storage.removeItem(l)}};let m=!0;function g(e){return!!e?.some(s=>s.message.startsWith("no document is registered under this documentId"))}async function f(e,s){const a=v.token;if(!a)throw new p("not signed in","UNAUTHENTICATED",401);const t=e.__meta__?.hash,u=i=>JSON.stringify(i&&t?{documentId:t,variables:s}:{query:e.toString(),variables:s}),o=i=>fetch("/graphql",{method:"POST",headers:{"Content-Type":"application/json",Accept:"application/json",Authorization:`Bearer ${a}`},body:u(i)});let d,r;try{d=await o(m),r=await d.json().catch(()=>null),m&&g(r?.errors)&&(m=!1,d=await o(!1),r=await d.json().catch(()=>null))}catch{throw new p("the gateway cannot be reached","UNAVAILABLE",0)}if(!r||r.data==null){const i=r?.errors?.[0];throw new p(i?.message??`HTTP ${d.status}`,i?.extensions?.code??"UNAVAILABLE",d.status)}return{data:r.data,errors:r.errors??[]}}const c=e=>e==="id"?"id-ID":"en-GB";function h(e,s,a=0){return new Intl.NumberFormat(c(e),{maximumFractionDigits:a}).format(s)}function y(e,s){return new Intl.NumberFormat(c(e),{style:"currency",currency:"IDR",maximumFractionDigits:0}).format(s)}function b(e,s){return new Intl.NumberFormat(c(e),{style:"currency",currency:"IDR",notation:"compact",maximumFractionDigits:2}).format(s)}function D(e,s){return new Intl.NumberFormat(c(e),{style:"percent",maximumFractionDigits:1}).format(s)}function w(e,s){return new Intl.DateTimeFormat(c(e),{dateStyle:"medium",timeZone:"UTC"}).format(new Date(`${s}T00:00:00Z`))}function S(e,s){const a=t=>{const u=t==null?"":String(t),o=/^[=+\-@\t\r]/.test(u)&&!/^-?\d+(\.\d+)?$/.test(u)?`'${u}`:u;return/[",\n\r]/.test(o)?`"${o.replace(/"/g,'""')}"`:o};return"\uFEFF"+[e,...s].map(t=>t.map(a).join(",")).join(`\r
`)+`\r
`}function I(e,s){const a=URL.createObjectURL(new Blob([s],{type:"text/csv;charset=utf-8"})),t=document.createElement("a");t.href=a,t.download=e,document.body.append(t),t.click(),t.remove(),setTimeout(()=>URL.revokeObjectURL(a),1e3)}class n extends String{__apiType;value;__meta__;constructor(s,a){super(s),this.value=s,this.__meta__=a}toString(){return this.value}}new n(`
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
    `,{fragmentName:"Area"});const A=new n(`
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
    `,{hash:"05691161df1a198979bf8f61c3c375a5c287cdb80f850b2e3d3d6efd2e48f75e"}),$=new n(`
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
}`,{hash:"a76382e69b5237fb54860d1f94d47fa0f50f22ae17df76bca7ce3516a726a6fb"}),C=new n(`
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
    `,{hash:"fc500bb6769e4a694ee3ef4d630eb1412ae124ee4a4302196d95429eb54ee8ee"}),F=new n(`
    query FieldMe {
  me {
    agency
    client
    regions
    volunteerId
  }
}
    `,{hash:"82398f99914deadb989dddea2679eb953eba038a20dbb886918883bc3937e2fb"}),T=new n(`
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
    `,{hash:"a70e99f8157b1df287ccd96f1503a9991bc5a30ee5036533ea0fa6a16c5ce714"}),k=new n(`
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
    `,{hash:"dc5d3d5e3e5f3812a724d0c5f581492063665436f32fccf4ce15f1fbc8763bb0"});export{A as D,k as F,p as R,$ as a,y as b,b as c,C as d,I as e,S as f,T as g,w as h,F as i,h as n,D as p,f as r,v as s};

// Uses the generated types the way a front end would; `tsc --noEmit` fails when the schema no
// longer fits these uses.
import type {
  BeneficiaryListQuery,
  CaseUpdatesSubscription,
  CaseViewQuery,
  CloseBusinessMutation,
  CloseBusinessMutationVariables,
} from "./generated/graphql";

export function names(page: BeneficiaryListQuery): string[] {
  const cursor: string | null | undefined = page.beneficiaries.pageInfo.endCursor;
  void cursor;
  return page.beneficiaries.nodes.map((b) => `${b.fullName} (desil ${b.decile})`);
}

export function requestedTotal(view: CaseViewQuery): number {
  const person = view.beneficiary;
  if (!person) return 0;
  let total = 0;
  // A relation the token lacks the scope for is null (with a FORBIDDEN error at its path).
  for (const business of person.businesses ?? []) {
    for (const loan of business.loans ?? []) {
      const amount: number = loan.requestedAmount;
      total += amount;
    }
  }
  return total;
}

export function closing(id: string, version: number, reason: string): CloseBusinessMutationVariables {
  return { input: { id, expectedVersion: version, reason } };
}

export function closedStatus(result: CloseBusinessMutation): string | undefined {
  const errors = result.closeBusiness.userErrors.map((e) => `${e.code}: ${e.message}`);
  if (errors.length > 0) return undefined;
  return result.closeBusiness.business?.status;
}

export function describe(event: CaseUpdatesSubscription): string {
  const e = event.caseEvents;
  const from: string = e.fromStatus ?? "-";
  return `${e.sequence} ${e.entityType} ${e.action} ${from} → ${e.toStatus ?? "-"} ${e.reason ?? ""}`;
}

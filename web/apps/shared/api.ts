// The front ends' GraphQL client: POST /graphql with the session's token, typed by the
// documents graphql-codegen generated from schema.graphql. A document goes by its id first
// (trusted documents: `sinergi documents register apps/shared/gql/persisted-documents.json`);
// when the gateway has no document under that id for this client, the session sends texts.
import type { TypedDocumentString } from "./gql/graphql";

/** A GraphQL error as the gateway sends it (DESIGN.md's codes in `extensions.code`). */
export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** A request that failed as a whole: no data came back. */
export class RequestFailed extends Error {
  constructor(
    message: string,
    public readonly code: string,
    public readonly status: number,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "sinergi.token";

/** A pasted token without spaces around it or a `Bearer ` prefix. */
const bare = (token: string) => token.trim().replace(/^Bearer\s+/i, "");

/** The token pasted at sign-in: kept for this browser tab's session only, unless an app keeps
 * it on the device (the field app, which must open without a network). */
export const session = {
  storage: sessionStorage as Storage,
  get token(): string | null {
    return this.storage.getItem(TOKEN_KEY);
  },
  signIn(token: string): void {
    this.storage.setItem(TOKEN_KEY, bare(token));
  },
  signOut(): void {
    this.storage.removeItem(TOKEN_KEY);
  },
};

let sendIds = true;

function unknownId(errors: GraphQLError[] | undefined): boolean {
  return !!errors?.some((e) => e.message.startsWith("no document is registered under this documentId"));
}

/** Runs `document` with `variables`: its data and the errors of the fields that failed. With
 * `candidate`, under that token instead of the session's (a sign-in not yet accepted). */
export async function request<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  candidate?: string,
): Promise<{ data: R; errors: GraphQLError[] }> {
  const token = (candidate && bare(candidate)) || session.token;
  if (!token) throw new RequestFailed("not signed in", "UNAUTHENTICATED", 401);
  const hash = document.__meta__?.hash as string | undefined;
  const body = (byId: boolean) =>
    JSON.stringify(byId && hash ? { documentId: hash, variables } : { query: document.toString(), variables });
  const send = (byId: boolean) =>
    fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        // application/json: a document id the gateway does not know is a 200 with the error,
        // not a failed request in the browser's console.
        Accept: "application/json",
        Authorization: `Bearer ${token}`,
      },
      body: body(byId),
    });
  let response: Response;
  let json;
  try {
    response = await send(sendIds);
    json = await response.json().catch(() => null);
    if (sendIds && unknownId(json?.errors)) {
      sendIds = false;
      response = await send(false);
      json = await response.json().catch(() => null);
    }
  } catch {
    // No answer at all: the network is cut or the gateway is down.
    throw new RequestFailed("the gateway cannot be reached", "UNAVAILABLE", 0);
  }
  if (!json || json.data == null) {
    const first: GraphQLError | undefined = json?.errors?.[0];
    throw new RequestFailed(
      first?.message ?? `HTTP ${response.status}`,
      first?.extensions?.code ?? "UNAVAILABLE",
      response.status,
    );
  }
  return { data: json.data as R, errors: (json.errors ?? []) as GraphQLError[] };
}

// Follows Sinergi's case events with the graphql-ws client (Node.js 20+):
//
//   npm ci
//   SINERGI_URL=http://127.0.0.1:8080 TOKEN=… LAST_SEQUENCE=0 node follow.mjs
//
// It prints each event and the sequence to resume from; persist LAST_SEQUENCE between runs.
// STOP_AFTER=n ends it after n events (for a test or a batch job).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = (process.env.SINERGI_URL ?? 'http://127.0.0.1:8080').replace(/^http/, 'ws') + '/graphql/ws';
const stopAfter = Number(process.env.STOP_AFTER ?? Infinity);
let last = process.env.LAST_SEQUENCE;            // persisted between runs
let seen = 0;

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${process.env.TOKEN}` },
});
const stop = client.subscribe(
  {
    query: `subscription ($after: String) {
      caseEvents(after: $after) { sequence entityType entityId action toStatus }
    }`,
    variables: { after: last },
  },
  {
    next: ({ data, errors }) => {
      if (seen >= stopAfter) return;               // stopping: the rest is for the next run
      if (errors) return console.error(errors);   // e.g. UNAUTHENTICATED: renew the token
      last = data.caseEvents.sequence;            // persist it
      console.log(JSON.stringify(data.caseEvents));
      if (++seen >= stopAfter) {
        console.log('stopped after', seen, 'events; resume with after =', last);
        stop();
        client.dispose().then(() => process.exit(0));
      }
    },
    error: (error) => {
      console.error(error);
      process.exitCode = 1;
    },
    complete: () => console.log('ended; reconnect with after =', last),
  },
);

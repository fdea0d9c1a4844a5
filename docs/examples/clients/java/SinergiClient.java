// A Sinergi client in Java (17+), standard library only: query, page through a list, register
// and update a beneficiary with optimistic concurrency (expectedVersion), and follow the case
// over the WebSocket (graphql-transport-ws).
//
//   SINERGI_URL=http://127.0.0.1:8080 SINERGI_TOKEN=… java SinergiClient.java
//
// The token needs beneficiary:read, beneficiary:write, pii:read and events:subscribe (the
// development token printed by `cargo run -p sinergi-api` has them). JSON is built and read with
// a few regular expressions to stay dependency-free; a real client would use Jackson or Gson.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class SinergiClient {
    static final String URL = System.getenv().getOrDefault("SINERGI_URL", "http://127.0.0.1:8080").replaceAll("/$", "");
    static final String TOKEN = System.getenv("SINERGI_TOKEN");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** POSTs one operation and returns the raw JSON answer; exits on top-level errors. */
    static String graphql(String query, String variables, String idempotencyKey) throws Exception {
        String body = "{\"query\":" + quote(query) + ",\"variables\":" + variables + "}";
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(URL + "/graphql"))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + TOKEN)
            .header("X-Purpose", "java-client-example")
            .POST(HttpRequest.BodyPublishers.ofString(body));
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        String answer = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString()).body();
        if (answer.startsWith("{\"errors\"") || answer.contains("\"errors\":[{")) {
            throw new IllegalStateException("error: " + answer);
        }
        return answer;
    }

    static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    /** The first string or number value of `key` in `json` (enough for this example). */
    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(\"([^\"]*)\"|(-?[0-9]+)|(true|false|null))").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + key + " in " + json);
        }
        return m.group(2) != null ? m.group(2) : m.group(1);
    }

    public static void main(String[] args) throws Exception {
        String me = graphql("{ me { agency client } }", "{}", null);
        System.out.println("signed in as " + field(me, "agency") + "/" + field(me, "client"));

        // Page through beneficiaries with the cursor: three pages of two.
        String list = "query($first: Int, $after: String) { beneficiaries(first: $first, after: $after) {"
            + " totalCount pageInfo { hasNextPage endCursor } nodes { id fullName } } }";
        String after = "null";
        int seen = 0;
        String page = "";
        for (int n = 0; n < 3; n++) {
            page = graphql(list, "{\"first\":2,\"after\":" + after + "}", null);
            seen += page.split("\"fullName\"", -1).length - 1;
            if (!field(page, "hasNextPage").equals("true")) {
                break;
            }
            after = quote(field(page, "endCursor"));
        }
        System.out.println("paged " + seen + " of " + field(page, "totalCount") + " beneficiaries");

        // Register with its own id and an Idempotency-Key (safe to retry), then update.
        int serial = (int) (Math.random() * 10000);
        String id = UUID.randomUUID().toString();
        String input = String.format("{\"i\":{\"id\":\"%s\",\"nik\":\"647201150290%04d\",\"kkNumber\":\"647201010115%04d\","
            + "\"isHeadOfFamily\":true,\"fullName\":\"Budi Hartono\",\"birthDate\":\"1990-02-15\",\"sex\":\"MALE\","
            + "\"phone\":\"081234567890\",\"address\":\"Jl. Pahlawan No. 3\",\"regencyCode\":\"6472\","
            + "\"districtCode\":\"647201\",\"decile\":2,\"decileSource\":\"DTSEN\",\"decileAssessedOn\":\"2026-10-01\"}}",
            id, serial, serial);
        String created = graphql("mutation($i: CreateBeneficiaryInput!) { createBeneficiary(input: $i) {"
            + " beneficiary { id version } userErrors { field code message } } }", input, UUID.randomUUID().toString());
        if (!created.contains("\"userErrors\":[]")) {
            throw new IllegalStateException("not registered: " + created);
        }
        String version = field(created, "version");
        String update = "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) {"
            + " beneficiary { version } userErrors { code } } }";
        String changed = graphql(update, "{\"i\":{\"id\":\"" + id + "\",\"expectedVersion\":" + version + ",\"phone\":\"081298765432\"}}", null);
        String stale = graphql(update, "{\"i\":{\"id\":\"" + id + "\",\"expectedVersion\":" + version + ",\"phone\":\"081200000000\"}}", null);
        System.out.println("registered " + id + "; updated to version " + field(changed, "version")
            + "; a stale update is " + field(stale, "code"));

        // Follow the beneficiary's case from the start: created, updated.
        LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();
        WebSocket socket = HTTP.newWebSocketBuilder()
            .subprotocols("graphql-transport-ws")
            .buildAsync(URI.create(URL.replaceFirst("^http", "ws") + "/graphql/ws"), new WebSocket.Listener() {
                final StringBuilder text = new StringBuilder();

                public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                        messages.add(text.toString());
                        text.setLength(0);
                    }
                    ws.request(1);
                    return CompletableFuture.completedFuture(null);
                }
            }).get(10, TimeUnit.SECONDS);
        socket.sendText("{\"type\":\"connection_init\",\"payload\":{\"Authorization\":\"Bearer " + TOKEN + "\"}}", true).get();
        String ack = messages.poll(10, TimeUnit.SECONDS);
        if (ack == null || !ack.contains("connection_ack")) {
            throw new IllegalStateException("no ack: " + ack);
        }
        String subscription = "subscription($f: CaseEventFilter) { caseEvents(after: \"0\", filter: $f) { sequence action entityType entityId } }";
        socket.sendText("{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":" + quote(subscription)
            + ",\"variables\":{\"f\":{\"beneficiaryId\":\"" + id + "\"}}}}", true).get();
        String last = null;
        for (int events = 0; events < 2; ) {
            String message = messages.poll(20, TimeUnit.SECONDS);
            if (message == null) {
                throw new IllegalStateException("no event in time");
            }
            if (message.contains("\"type\":\"ping\"")) {
                socket.sendText("{\"type\":\"pong\"}", true).get();
            } else if (message.contains("\"type\":\"next\"")) {
                last = field(message, "sequence");
                System.out.println("event " + last + " " + field(message, "action") + " " + field(message, "entityType") + " " + field(message, "entityId"));
                events++;
            } else {
                throw new IllegalStateException("unexpected: " + message);
            }
        }
        socket.sendText("{\"id\":\"1\",\"type\":\"complete\"}", true).get();
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get();
        System.out.println("followed the case to sequence " + last);
    }
}

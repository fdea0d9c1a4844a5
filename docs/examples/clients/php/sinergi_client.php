<?php
// A Sinergi client in PHP (8.1+), no extensions beyond the standard json and streams: query,
// page through a list, register and update a beneficiary with optimistic concurrency
// (expectedVersion), and follow the case over the WebSocket (graphql-transport-ws).
//
//   SINERGI_URL=http://127.0.0.1:8080 SINERGI_TOKEN=… php sinergi_client.php
//
// The token needs beneficiary:read, beneficiary:write, pii:read and events:subscribe (the
// development token printed by `cargo run -p sinergi-api` has them). The WebSocket client below
// is the minimum the protocol needs (plain ws://); behind TLS use a library such as
// textalk/websocket or amphp/websocket-client.

declare(strict_types=1);

$url = rtrim(getenv('SINERGI_URL') ?: 'http://127.0.0.1:8080', '/');
$token = getenv('SINERGI_TOKEN') ?: exit("set SINERGI_TOKEN\n");

/** POSTs one operation; returns `data`, throws on top-level errors. */
function graphql(string $query, array $variables = [], ?string $idempotencyKey = null): array
{
    global $url, $token;
    $headers = ["Content-Type: application/json", "Authorization: Bearer $token", "X-Purpose: php-client-example"];
    if ($idempotencyKey !== null) {
        $headers[] = "Idempotency-Key: $idempotencyKey";
    }
    $body = json_encode(['query' => $query, 'variables' => (object) $variables], JSON_THROW_ON_ERROR);
    $context = stream_context_create(['http' => [
        'method' => 'POST', 'header' => implode("\r\n", $headers), 'content' => $body,
        'timeout' => 30, 'ignore_errors' => true, // 4xx/5xx bodies say why
    ]]);
    $answer = json_decode((string) file_get_contents("$url/graphql", false, $context), true, 512, JSON_THROW_ON_ERROR);
    if (!empty($answer['errors'])) {
        throw new RuntimeException(json_encode($answer['errors']));
    }
    return $answer['data'];
}

function uuid4(): string
{
    $b = random_bytes(16);
    $b[6] = chr((ord($b[6]) & 0x0f) | 0x40);
    $b[8] = chr((ord($b[8]) & 0x3f) | 0x80);
    return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($b), 4));
}

/** A minimal WebSocket client: handshake, masked text frames out, text frames in. */
final class GraphQLSocket
{
    private $stream;

    public function __construct(string $httpUrl, string $path, string $protocol)
    {
        $parts = parse_url($httpUrl);
        $host = $parts['host'];
        $port = $parts['port'] ?? 80;
        $this->stream = stream_socket_client("tcp://$host:$port", $errno, $error, 10)
            ?: throw new RuntimeException("connect: $error");
        stream_set_timeout($this->stream, 20);
        $key = base64_encode(random_bytes(16));
        fwrite($this->stream, "GET $path HTTP/1.1\r\nHost: $host:$port\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            . "Sec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: $protocol\r\n\r\n");
        $head = '';
        while (!str_contains($head, "\r\n\r\n")) {
            $line = fgets($this->stream) ?: throw new RuntimeException('no upgrade');
            $head .= $line;
        }
        if (!str_starts_with($head, 'HTTP/1.1 101')) {
            throw new RuntimeException("refused: $head");
        }
    }

    public function send(array $message): void
    {
        $payload = json_encode($message, JSON_THROW_ON_ERROR);
        $length = strlen($payload);
        $frame = chr(0x81);
        if ($length < 126) {
            $frame .= chr(0x80 | $length);
        } elseif ($length < 65536) {
            $frame .= chr(0x80 | 126) . pack('n', $length);
        } else {
            $frame .= chr(0x80 | 127) . pack('J', $length);
        }
        $mask = random_bytes(4);
        $masked = '';
        for ($i = 0; $i < $length; $i++) {
            $masked .= $payload[$i] ^ $mask[$i % 4];
        }
        fwrite($this->stream, $frame . $mask . $masked);
    }

    /** The next protocol message (pings answered, control frames skipped). */
    public function receive(): array
    {
        while (true) {
            [$opcode, $payload] = $this->frame();
            if ($opcode === 0x8) {
                throw new RuntimeException('closed: ' . substr($payload, 2));
            }
            if ($opcode !== 0x1) {
                continue;
            }
            $message = json_decode($payload, true, 512, JSON_THROW_ON_ERROR);
            if (($message['type'] ?? '') === 'ping') {
                $this->send(['type' => 'pong']);
                continue;
            }
            return $message;
        }
    }

    private function frame(): array
    {
        $head = $this->read(2);
        $opcode = ord($head[0]) & 0x0f;
        $length = ord($head[1]) & 0x7f;
        if ($length === 126) {
            $length = unpack('n', $this->read(2))[1];
        } elseif ($length === 127) {
            $length = unpack('J', $this->read(8))[1];
        }
        return [$opcode, $length > 0 ? $this->read($length) : ''];
    }

    private function read(int $bytes): string
    {
        $data = '';
        while (strlen($data) < $bytes) {
            $chunk = fread($this->stream, $bytes - strlen($data));
            if ($chunk === false || $chunk === '') {
                throw new RuntimeException('the socket ended');
            }
            $data .= $chunk;
        }
        return $data;
    }
}

$me = graphql('{ me { agency client } }')['me'];
echo "signed in as {$me['agency']}/{$me['client']}\n";

// Page through beneficiaries with the cursor: three pages of two.
$list = 'query($first: Int, $after: String) { beneficiaries(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id fullName } } }';
$after = null;
$seen = 0;
for ($n = 0; $n < 3; $n++) {
    $page = graphql($list, ['first' => 2, 'after' => $after])['beneficiaries'];
    $seen += count($page['nodes']);
    if (!$page['pageInfo']['hasNextPage']) {
        break;
    }
    $after = $page['pageInfo']['endCursor'];
}
echo "paged $seen of {$page['totalCount']} beneficiaries\n";

// Register with its own id and an Idempotency-Key (safe to retry), then update.
$serial = sprintf('%04d', random_int(0, 9999));
$id = uuid4();
$created = graphql('mutation($i: CreateBeneficiaryInput!) { createBeneficiary(input: $i) {
  beneficiary { id version } userErrors { field code message } } }', ['i' => [
    'id' => $id, 'nik' => "647201150290$serial", 'kkNumber' => "647201010115$serial", 'isHeadOfFamily' => true,
    'fullName' => 'Rudi Salam', 'birthDate' => '1990-02-15', 'sex' => 'MALE', 'phone' => '081234567890',
    'address' => 'Jl. Pahlawan No. 4', 'regencyCode' => '6472', 'districtCode' => '647201', 'decile' => 2,
    'decileSource' => 'DTSEN', 'decileAssessedOn' => '2026-10-01',
]], uuid4())['createBeneficiary'];
if ($created['userErrors']) {
    throw new RuntimeException(json_encode($created['userErrors']));
}
$version = $created['beneficiary']['version'];
$update = 'mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) {
  beneficiary { version } userErrors { code } } }';
$changed = graphql($update, ['i' => ['id' => $id, 'expectedVersion' => $version, 'phone' => '081298765432']]);
$stale = graphql($update, ['i' => ['id' => $id, 'expectedVersion' => $version, 'phone' => '081200000000']]);
echo "registered $id; updated to version {$changed['updateBeneficiary']['beneficiary']['version']};"
    . " a stale update is {$stale['updateBeneficiary']['userErrors'][0]['code']}\n";

// Follow the beneficiary's case from the start: created, updated.
$socket = new GraphQLSocket($url, '/graphql/ws', 'graphql-transport-ws');
$socket->send(['type' => 'connection_init', 'payload' => ['Authorization' => "Bearer $token"]]);
$ack = $socket->receive();
if ($ack['type'] !== 'connection_ack') {
    throw new RuntimeException(json_encode($ack));
}
$socket->send(['id' => '1', 'type' => 'subscribe', 'payload' => [
    'query' => 'subscription($f: CaseEventFilter) { caseEvents(after: "0", filter: $f) { sequence action entityType entityId } }',
    'variables' => ['f' => ['beneficiaryId' => $id]],
]]);
$last = null;
for ($events = 0; $events < 2;) {
    $message = $socket->receive();
    if ($message['type'] !== 'next') {
        throw new RuntimeException(json_encode($message));
    }
    $event = $message['payload']['data']['caseEvents'];
    $last = $event['sequence'];
    echo "event {$event['sequence']} {$event['action']} {$event['entityType']} {$event['entityId']}\n";
    $events++;
}
$socket->send(['id' => '1', 'type' => 'complete']);
echo "followed the case to sequence $last\n";

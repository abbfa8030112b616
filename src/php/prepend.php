<?php
// Prepended to every script of a managed php-fpm pool (auto_prepend_file).
// mercure_publish() as in FrankenPHP: publishes to the hub of the server that
// runs this pool, through a unix socket in the pool's private runtime
// directory; no JWT. Returns the update ID; throws when the hub refuses.
if (!function_exists('mercure_publish')) {
    function mercure_publish(string|array $topics, string $data = '', bool $private = false, ?string $id = null, ?string $type = null, ?int $retry = null): string
    {
        $body = json_encode([
            'topics' => array_values((array) $topics), 'data' => $data, 'private' => $private,
            'id' => $id, 'type' => $type, 'retry' => $retry,
        ], JSON_THROW_ON_ERROR);
        $s = @stream_socket_client('unix://@@SOCKET@@', $errno, $errstr, 5);
        if ($s === false) {
            throw new RuntimeException("mercure_publish: the hub cannot be reached ($errstr)");
        }
        fwrite($s, "POST /publish HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " . strlen($body) . "\r\n\r\n" . $body);
        $response = stream_get_contents($s);
        fclose($s);
        $parts = explode("\r\n\r\n", (string) $response, 2);
        $answer = $parts[1] ?? '';
        if (!preg_match('#^HTTP/\S+ (\d{3})#', $parts[0], $m) || $m[1] !== '200') {
            throw new RuntimeException('mercure_publish: ' . ($answer !== '' ? trim($answer) : 'the hub refused the update'));
        }
        return $answer;
    }
}

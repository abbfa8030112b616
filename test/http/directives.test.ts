/**
 * The HTTP directives through the real parser and adapter: the JSON they
 * produce, and their error messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';

function routes(body: string): any[] {
  const r = adaptCaddyfile(`:80 {\n${body}\n}\n`, { file: 'Caddyfile', env: {}, readFile: () => '' });
  const srv = (r.config.apps as any).http.servers.srv0;
  return srv.routes[0].handle[0].routes;
}
function server(body: string): any {
  const r = adaptCaddyfile(`:80 {\n${body}\n}\n`, { file: 'Caddyfile', env: {}, readFile: () => '' });
  return (r.config.apps as any).http.servers.srv0;
}
function strip(v: any): any { return JSON.parse(JSON.stringify(v, (k, x) => (k === '@span' ? undefined : x))); }
function fails(body: string, re: RegExp): void {
  assert.throws(() => routes(body), (e: Error) => { assert.match(e.message, re); return true; });
}

test('respond and redir produce static_response', () => {
  assert.deepEqual(strip(routes('\trespond /health 200')), [{ match: [{ path: ['/health'] }], handle: [{ handler: 'static_response', status_code: 200 }] }]);
  assert.deepEqual(strip(routes('\trespond "Not Found" 404 {\n\t\tclose\n\t}'))[0].handle[0], { handler: 'static_response', body: 'Not Found', status_code: 404, close: true });
  assert.deepEqual(strip(routes('\trespond * "hi"'))[0].handle[0], { handler: 'static_response', body: 'hi' });
  assert.deepEqual(strip(routes('\tredir * /new permanent'))[0].handle[0], { handler: 'static_response', headers: { Location: ['/new'] }, status_code: 301 });
  const html = strip(routes('\tredir * /x html'))[0].handle[0];
  assert.equal(html.status_code, 200);
  assert.match(html.body, /window\.location\.replace\("\/x"\)/);
  fails('\trespond "/health"', /wrong argument count/);
  fails('\trespond', /wrong argument count/);
  fails('\tredir /new', /wrong argument count/);
  fails('\tredir * /new 200', /Redir code not in the 3xx range or 401: '200'/);
  fails('\tredir * /new abc', /Not a supported redir code type or not valid integer: 'abc'/);
});

test('header: ops, defer, ? default, and errors', () => {
  const r = strip(routes('\theader {\n\t\tX-Set a\n\t\t+X-Add b\n\t\t-Server\n\t\t>X-Late c\n\t\tX-Rep "^(.*)$" "p-$1"\n\t\t?X-Default d\n\t}'));
  assert.deepEqual(r[0].handle[0].response, {
    set: { 'X-Set': ['a'], 'X-Late': ['c'] }, add: { 'X-Add': ['b'] }, delete: ['Server'], deferred: true,
    replace: { 'X-Rep': [{ search_regexp: '^(.*)$', replace: 'p-$1' }] },
  });
  assert.deepEqual(r[1].handle[0].response, { set: { 'X-Default': ['d'] }, require: { headers: { 'X-Default': null } } });
  assert.deepEqual(strip(routes('\theader / {\n\t\tcontent-type: "text/html"\n\t}'))[0].handle[0].response, { set: { 'Content-Type': ['text/html'] } });
  fails('\theader X-A b {\n\t\tX-C d\n\t}', /cannot specify headers in both arguments and block/);
});

test('root, log_skip, handle_path, route, handle, encode, file_server, rewrite, uri', () => {
  assert.deepEqual(strip(routes('\troot /var/www'))[0], { group: 'group0', handle: [{ handler: 'vars', root: '/var/www' }] });
  assert.deepEqual(strip(routes('\troot /app/* /srv/app'))[0].match, [{ path: ['/app/*'] }]);
  fails('\troot', /too few arguments; must have at least a root path/);
  fails('\troot a b c', /too many arguments; should only be a matcher and a path/);
  assert.deepEqual(strip(routes('\tlog_skip /robots.txt'))[0].handle[0], { handler: 'vars', log_skip: true });
  fails('\tlog_skip {\n\t\tx\n\t}', /log_skip directive does not accept blocks/);
  const hp = strip(routes('\thandle_path /static/* {\n\t\trespond "s"\n\t}'))[0];
  assert.deepEqual(hp.match, [{ path: ['/static/*'] }]);
  assert.deepEqual(hp.handle[0].routes[0], { handle: [{ handler: 'rewrite', strip_path_prefix: '/static' }] });
  fails('\t@x path /a\n\thandle_path @x {\n\t\trespond "s"\n\t}', /path matcher must begin with '\/', got @x/);
  const rt = strip(routes('\troute {\n\t\trespond "b"\n\t\theader X-A 1\n\t}'))[0].handle[0];
  assert.deepEqual(rt.routes.map((r: any) => r.handle[0].handler), ['static_response', 'headers'], 'route keeps written order');
  const hd = strip(routes('\thandle {\n\t\trespond "b"\n\t\theader X-A 1\n\t}'))[0].handle[0];
  assert.deepEqual(hd.routes.map((r: any) => r.handle[0].handler), ['headers', 'static_response'], 'handle sorts');
  assert.deepEqual(strip(routes('\tencode'))[0].handle[0], { handler: 'encode', encodings: { zstd: {}, gzip: {} }, prefer: ['zstd', 'gzip'] });
  assert.deepEqual(strip(routes('\tencode gzip {\n\t\tzstd better\n\t\tminimum_length 1024\n\t\tmatch {\n\t\t\theader Content-Type text/*\n\t\t}\n\t}'))[0].handle[0],
    { handler: 'encode', encodings: { gzip: {}, zstd: { level: 'better' } }, prefer: ['gzip', 'zstd'], minimum_length: 1024, match: { headers: { 'Content-Type': ['text/*'] } } });
  fails('\tencode lzma', /finding encoder module 'http.encoders.lzma'/);
  assert.deepEqual(strip(routes('\tfile_server {\n\t\troot /srv\n\t\tindex main.html\n\t\tprecompressed\n\t\tpass_thru\n\t}'))[0].handle[0], {
    handler: 'file_server', root: '/srv', index_names: ['main.html'], precompressed: { br: {}, zstd: {}, gzip: {} },
    precompressed_order: ['br', 'zstd', 'gzip'], pass_thru: true, hide: ['./Caddyfile'],
  });
  fails('\tfile_server browse', /browse \(directory listings\) is not supported/);
  fails('\tfile_server {\n\t\tindx a\n\t}', /unknown subdirective in file_server "indx".*did you mean "index"/);
  assert.deepEqual(strip(routes('\trewrite * /index.php?{query}'))[0].handle[0], { handler: 'rewrite', uri: '/index.php?{http.request.uri.query}' });
  assert.deepEqual(strip(routes('\turi strip_prefix api'))[0].handle[0], { handler: 'rewrite', strip_path_prefix: '/api' });
});

test('named matchers', () => {
  const r = strip(routes('\t@m {\n\t\tpath /a* /b\n\t\tmethod get\n\t\theader X-A v1 v2\n\t\theader !X-B\n\t\tquery debug=1\n\t\tremote_ip 10.0.0.0/8\n\t\tnot path /a/private*\n\t}\n\trespond @m "ok"'));
  assert.deepEqual(r[0].match, [{
    path: ['/a*', '/b'], method: ['GET'], header: { 'X-A': ['v1', 'v2'], 'X-B': null }, query: { debug: ['1'] },
    remote_ip: { ranges: ['10.0.0.0/8'] }, not: [{ path: ['/a/private*'] }],
  }]);
  assert.deepEqual(strip(routes('\t@e `{method} == "GET"`\n\trespond @e "ok"'))[0].match, [{ expression: '{http.request.method} == "GET"' }]);
  fails('\t@m pth /a\n\trespond @m "x"', /unknown matcher "pth"/);
});

test('handle_errors, log, tls, bind', () => {
  const srv = server('\thandle_errors 404 5xx {\n\t\trespond "{err.status_code}"\n\t}\n\tlog access {\n\t\toutput stdout\n\t\tformat filter {\n\t\t\trequest>uri query {\n\t\t\t\treplace authorization REDACTED\n\t\t\t}\n\t\t}\n\t\tlevel info\n\t}');
  const er = strip(srv.errors.routes[0].handle[0].routes[0]);
  assert.deepEqual(er.match, [{ expression: '{http.error.status_code} >= 500 && {http.error.status_code} <= 599 || {http.error.status_code} in [404]' }]);
  assert.deepEqual(srv.logs, [{ hosts: [], name: 'access', writer: { output: 'stdout' }, level: 'INFO', encoder: {
    format: 'filter', fields: { 'request>uri': { filter: 'query', actions: [{ type: 'replace', parameter: 'authorization', value: 'REDACTED' }] } },
  } }]);
  fails('\thandle_errors 4x4 {\n\t\trespond "x"\n\t}', /bad status value '4x4'/);
  fails('\tlog {\n\t\toutput net localhost:1\n\t}', /log output 'net' is not supported/);
  fails('\ttls foo', /single argument must either be 'internal', 'force_automate', or an email address/);
  const r = adaptCaddyfile('https://localhost:8443 {\n\ttls internal\n\tbind 127.0.0.1\n\trespond "x"\n}\n', { file: 'Caddyfile', env: {}, readFile: () => '' });
  const http = (r.config.apps as any).http;
  assert.deepEqual(http.servers.srv0.listen, ['127.0.0.1:8443']);
  assert.deepEqual(http.servers.srv0.tls_connection_policies, [{}]);
  assert.deepEqual((r.config.apps as any).tls.automation.policies[0].subjects, ['localhost']);
});

test('reverse_proxy: upstreams, subdirectives, transport, errors', () => {
  const rp = strip(routes(`\treverse_proxy /api/* localhost:8001 http://b:8002 {
\t\tto c:8003-8004
\t\tlb_policy header X-Key
\t\tlb_retries 2
\t\thealth_uri /healthz
\t\thealth_interval 5s
\t\thealth_status 2xx
\t\tfail_duration 30s
\t\tmax_fails 3
\t\theader_up Host {upstream_hostport}
\t\theader_down -Server
\t\tflush_interval -1
\t\ttransport http {
\t\t\tdial_timeout 2s
\t\t\tresponse_header_timeout 10s
\t\t}
\t}`))[0];
  assert.deepEqual(rp.match, [{ path: ['/api/*'] }]);
  assert.deepEqual(rp.handle[0], {
    handler: 'reverse_proxy', flush_interval: -1,
    transport: { protocol: 'http', dial_timeout: '2s', response_header_timeout: '10s' },
    upstreams: [{ dial: 'localhost:8001' }, { dial: 'b:8002' }, { dial: 'c:8003-8004' }],
    load_balancing: { selection_policy: { policy: 'header', field: 'X-Key' }, retries: 2 },
    health_checks: { active: { uri: '/healthz', interval: '5s', expect_status: 2 }, passive: { fail_duration: '30s', max_fails: 3 } },
    headers: { request: { set: { Host: ['{http.reverse_proxy.upstream.hostport}'] } }, response: { delete: ['Server'] } },
  });
  assert.deepEqual(strip(routes('\treverse_proxy https://example.com'))[0].handle[0].transport, { protocol: 'http', tls: {} });
  fails('\treverse_proxy http://a:1 https://b:2', /all proxy upstreams must use the same scheme/);
  fails('\treverse_proxy', /no upstreams specified/);
  fails('\treverse_proxy a:1 {\n\t\tlb_polcy first\n\t}', /did you mean "lb_policy"/);
  fails('\treverse_proxy a:1 {\n\t\ttransport foo\n\t}', /unknown reverse_proxy transport "foo"/);
  fails('\treverse_proxy ftp://a:1', /unsupported URL scheme ftp:\/\//);
});

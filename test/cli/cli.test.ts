import { test } from 'node:test';
import { cli as runCli } from '../helpers/hub-process.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


const cli = (args: string[], cwd: string, env: Record<string, string> = {}) => runCli(args, cwd, { ...process.env, ...env });

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'qs-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const TWO_SITES = `{
	admin off
}

a.example.com:8081 {
	respond "A"
}

:8082 {
	respond "B" 201
}
`;

test('adapt prints JSON for a global block, two sites and respond', async () => {
  const dir = tmp({ Caddyfile: TWO_SITES });
  const r = await cli(['adapt'], dir);
  assert.equal(r.code, 0, r.stderr);
  const cfg = JSON.parse(r.stdout);
  assert.deepEqual(cfg.admin, { disabled: true });
  const servers = cfg.apps.http.servers;
  assert.deepEqual(Object.keys(servers), ['srv0', 'srv1']);
  assert.deepEqual(servers.srv0.listen, [':8081']);
  assert.deepEqual(servers.srv0.routes[0].match, [{ host: ['a.example.com'] }]);
  assert.equal(servers.srv1.routes[0].handle[0].routes[0].handle[0].handler, 'static_response');
  const pretty = await cli(['adapt', '--pretty', '--config', 'Caddyfile'], dir);
  assert.match(pretty.stdout, /^\{\n\t"admin"/);
});

test('a typo prints Caddyfile:LINE:COL with a did-you-mean and exits non-zero', async () => {
  const dir = tmp({ Caddyfile: ':8080 {\n\trespnd "hi"\n}\n' });
  const r = await cli(['adapt'], dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Caddyfile:2:2: unrecognized directive: respnd \(did you mean "respond"\?\)/);
  assert.equal(r.stdout, '');
});

test('adapt without a Caddyfile explains what to do', async () => {
  const r = await cli(['adapt'], tmp({}));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /input file required when there is no Caddyfile in current directory \(use --config flag\)/);
});

test('fmt is idempotent and reports unformatted input', async () => {
  const messy = 'a.example.com{\n    respond   "x"\n\n\n  respond /y "y"\n}\n:9000 {\nrespond "z"}\n';
  const dir = tmp({ Caddyfile: messy });
  const first = await cli(['fmt'], dir);
  assert.equal(first.code, 1, 'unformatted input exits 1');
  assert.match(first.stderr, /not formatted/);
  writeFileSync(join(dir, 'Caddyfile'), first.stdout);
  const second = await cli(['fmt'], dir);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  const w = await cli(['fmt', '--overwrite'], dir);
  assert.equal(w.code, 0);
  assert.equal(readFileSync(join(dir, 'Caddyfile'), 'utf8'), first.stdout);
});

test('validate provisions and says so', async () => {
  const dir = tmp({ Caddyfile: TWO_SITES });
  const r = await cli(['validate'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Valid configuration\n');
});

test('version and unknown commands', async () => {
  const v = await cli(['version'], tmp({}));
  assert.match(v.stdout, /^quicksilver v\d+\.\d+\.\d+ \(node v24\./);
  const u = await cli(['nope'], tmp({}));
  assert.equal(u.code, 1);
  assert.match(u.stderr, /unknown command "nope" for "quicksilver"/);
});

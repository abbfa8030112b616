/**
 * The `rate_limit` directive → the handler's JSON, its place in the route
 * order (before basic_auth), and the plugin's parse errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { ConfigErrors } from '../../src/host/errors.ts';

function adapt(site: string, global = ''): Record<string, any> {
  const text = `${global ? `{\n${global}\n}\n` : ''}:8080 {\n${site}\n}\n`;
  return adaptCaddyfile(text, { file: 'Caddyfile' }).config as Record<string, any>;
}

/** Every handler config in the site's routes, depth first. */
function handlers(config: Record<string, any>): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  const walk = (routes: any[] = []) => {
    for (const r of routes) {
      for (const h of r.handle ?? []) { out.push(h); walk(h.routes); }
    }
  };
  for (const srv of Object.values(config.apps.http.servers as Record<string, any>)) walk(srv.routes);
  return out;
}

function rateLimit(site: string, global = ''): Record<string, any> {
  const h = handlers(adapt(site, global)).find((x) => x.handler === 'rate_limit');
  assert.ok(h, 'no rate_limit handler');
  const copy = { ...h };
  delete copy['@span'];
  return copy;
}

function errorOf(site: string): string {
  try { adapt(site); } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message).join('\n');
  }
  assert.fail('expected a config error');
}

test('zones, distributed, jitter, sweep_interval, log_key; shorthands in keys are expanded', () => {
  const h = rateLimit(`\trate_limit {
		zone dynamic {
			key {remote_host}
			events 2
			window 5s
		}
		zone static_example {
			match {
				method GET
			}
			match {
				path /api/*
			}
			key static
			events 100
			window 1m
			ipv4_prefix 24
			ipv6_prefix 64
		}
		distributed {
			read_interval 2s
			write_interval 3s
			purge_age 1h
		}
		jitter 0.2
		sweep_interval 30s
		log_key
		disable_metrics
	}
	respond ok`);
  assert.deepEqual(h, {
    handler: 'rate_limit',
    rate_limits: {
      dynamic: { key: '{http.request.remote.host}', max_events: 2, window: '5s' },
      static_example: {
        match: [{ method: ['GET'] }, { path: ['/api/*'] }], key: 'static', max_events: 100, window: '1m', ipv4_prefix: 24, ipv6_prefix: 64,
      },
    },
    distributed: { read_interval: '2s', write_interval: '3s', purge_age: '1h' },
    jitter: 0.2, sweep_interval: '30s', log_key: true, disable_metrics: true,
  });
});

test('`distributed` alone enables defaults; `storage redis { … }` nests the storage config', () => {
  const h = rateLimit(`\trate_limit {
		zone z {
			key {client_ip}
			events 1
			window 1s
		}
		distributed
		storage redis {
			address 127.0.0.1:6379
			key_prefix limits
		}
	}`);
  assert.deepEqual(h.distributed, {});
  assert.deepEqual(h.storage, { module: 'redis', address: ['127.0.0.1:6379'], key_prefix: 'limits' });
  assert.equal(h.rate_limits.z.key, '{http.vars.client_ip}');
});

test('rate_limit is ordered after header and before respond without an order option, and takes a matcher', () => {
  const config = adapt(`\trespond ok
	@api path /api/*
	rate_limit @api {
		zone z {
			key static
			events 1
			window 1s
		}
	}
	header X-A b`);
  const names = handlers(config).map((h) => h.handler);
  const rl = names.indexOf('rate_limit');
  assert.ok(rl >= 0, names.join(','));
  assert.ok(rl < names.indexOf('static_response'), names.join(','));
  assert.ok(rl > names.indexOf('headers'), names.join(','));
  const json = JSON.stringify(config);
  assert.match(json, /"match":\[\{"path":\["\/api\/\*"\]\}\],"handle":\[\{"handler":"rate_limit"/);
});

test('errors: the plugin messages', () => {
  const zone = (body: string) => `\trate_limit {\n\t\tzone z {\n${body}\n\t\t}\n\t}`;
  const cases: [string, RegExp][] = [
    ['\trate_limit extra {\n\t}', /unexpected argument 'extra'/],
    [zone('\t\t\tkey a'), /a rate limit zone requires both a window and maximum events/],
    [zone('\t\t\tkey a\n\t\t\tkey b\n\t\t\tevents 1\n\t\t\twindow 1s'), /zone key already specified: a/],
    [zone('\t\t\twindow 1s\n\t\t\twindow 2s\n\t\t\tevents 1'), /zone window already specified: 1s/],
    [zone('\t\t\tevents 1\n\t\t\tevents 2\n\t\t\twindow 1s'), /zone max events already specified: 1/],
    [zone('\t\t\twindow soon\n\t\t\tevents 1'), /invalid window duration 'soon'/],
    [zone('\t\t\twindow 1s\n\t\t\tevents many'), /invalid max events integer 'many'/],
    [zone('\t\t\twindow 1s\n\t\t\tevents 1\n\t\t\tipv4_prefix x'), /invalid ipv4_prefix integer 'x'/],
    [zone('\t\t\twindow 1s\n\t\t\tevents 1\n\t\t\twindw 1s'), /unrecognized subdirective 'windw'.*did you mean "window"/],
    [zone('\t\t\twindow 1s\n\t\t\tevents 1\n\t\t\tmatch {\n\t\t\t\tmethd GET\n\t\t\t}'), /unknown matcher "methd"/],
    [zone('\t\t\tkey'), /wrong argument count/],
    ['\trate_limit {\n\t\tdistributed {\n\t\t\tread_interval 1s\n\t\t\tread_interval 2s\n\t\t}\n\t}', /read interval already specified: 1s/],
    ['\trate_limit {\n\t\tdistributed {\n\t\t\twrite_interval x\n\t\t}\n\t}', /invalid write interval 'x'/],
    ['\trate_limit {\n\t\tjitter 0.1\n\t\tjitter 0.2\n\t}', /jitter already specified: 0.1/],
    ['\trate_limit {\n\t\tjitter lots\n\t}', /invalid jitter percentage 'lots'/],
    ['\trate_limit {\n\t\tsweep_interval x\n\t}', /invalid sweep interval 'x'/],
    ['\trate_limit {\n\t\tstorage nosuch\n\t}', /unknown storage module "nosuch"/],
    ['\trate_limit {\n\t\tlimit 5\n\t}', /unrecognized subdirective 'limit'/],
  ];
  for (const [site, re] of cases) assert.match(errorOf(site), re, site);
});

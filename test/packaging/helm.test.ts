/**
 * Issue 15.4: the Helm chart (packaging/helm/quicksilver). `helm lint` and
 * `helm template` for each transport (helm from PATH, else built once with
 * `go install` by helm.sh), with assertions on the rendered objects: the
 * Deployment (replicas, non-root, JWT keys and license from the Secret,
 * exec probes on the health endpoints, /data and /config), the Secret, the
 * Service, the ConfigMap's Caddyfile (adapted by this repository's adapter
 * with the pod's environment: the transport and its options as
 * ha-multi-node.md spells them, per-pod consumer group / subscription name),
 * Ingress, PDB, HPA and ServiceMonitor; and `fail` for more than one replica on
 * a single-node transport.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { adaptText } from '../../src/runtime/load-config.ts';
import { ROOT } from './image-variables.ts';
import { freePort, startHub } from '../helpers/hub-process.ts';
import { token } from './hub-checks.ts';

const run = promisify(execFile);
/** The first test may wait for `go install` of helm (minutes on a cold machine). */
const HELM_TIMEOUT = 900_000;
const CHART = join(ROOT, 'packaging', 'helm', 'quicksilver');
const work = mkdtempSync(join(tmpdir(), 'qs-helm-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string> };

let helmPath: Promise<string> | undefined;
function helm(): Promise<string> {
  helmPath ??= run('bash', [join(ROOT, 'test', 'packaging', 'helm.sh')], { maxBuffer: 1 << 24 }).then(
    (r) => r.stdout.trim(),
    (e: { stderr?: string }) => {
      if (process.env.QS_SKIP_HELM_TEST === '1') return '';
      throw new Error(`no helm: ${e.stderr} (set QS_SKIP_HELM_TEST=1 to skip)`);
    });
  return helmPath;
}

let n = 0;
async function template(values: object): Promise<Obj[]> {
  const file = join(work, `values-${n++}.json`);
  writeFileSync(file, JSON.stringify(values));
  const { stdout } = await run(await helm(), ['template', 'qs', CHART, '-f', file], { maxBuffer: 1 << 24 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Obj).filter(Boolean);
}
async function templateError(values: object): Promise<string> {
  try { await template(values); } catch (e) { return (e as { stderr: string }).stderr; }
  throw new Error(`helm template succeeded for ${JSON.stringify(values)}`);
}
const one = (objs: Obj[], kind: string) => {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}, got ${found.length}`);
  return found[0]!;
};
const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** The pod's environment as Kubernetes would give it (secretKeyRef and fieldRef resolved). */
function podEnv(objs: Obj[], podName: string): Record<string, string> {
  const secret = objs.find((o) => o.kind === 'Secret');
  const env: Record<string, string> = {};
  for (const e of one(objs, 'Deployment').spec.template.spec.containers[0].env as any[]) {
    if ('value' in e) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) { const v = secret?.data?.[e.valueFrom.secretKeyRef.key]; if (v !== undefined) env[e.name] = b64(v); }
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = podName;
  }
  return env;
}

/** Adapts the ConfigMap's Caddyfile with the pod's env; returns the mercure transport config, or a skip reason when the transport is not in this build. */
function adaptedTransport(objs: Obj[], podName: string): Record<string, unknown> | string {
  const caddyfile = one(objs, 'ConfigMap').data!.Caddyfile!;
  try {
    const json = JSON.stringify(adaptText(caddyfile, 'caddyfile', 'configmap/Caddyfile', podEnv(objs, podName)).config);
    const m = /"handler":"mercure".*?"transport":(\{[^{}]*\})/.exec(json);
    if (m) return JSON.parse(m[1]!) as Record<string, unknown>;
    const url = /"handler":"mercure".*?"transport_url":("[^"]*")/.exec(json);
    assert.ok(url, 'a mercure handler with a transport');
    return { transport_url: JSON.parse(url[1]!) };
  } catch (e) {
    const msg = (e as Error).message;
    const m = /unknown Mercure transport "(\w+)"/.exec(msg);
    if (m) return `transport ${m[1]} is not registered in this build yet (another branch adds it): ${msg}`;
    throw e;
  }
}

const KEYS = { publisherJwtKey: 'helm-publisher-key', subscriberJwtKey: 'helm-subscriber-key', license: 'the-license' };
const MULTI = { replicaCount: 3, podDisruptionBudget: { enabled: true }, metrics: { serviceMonitor: { enabled: true } }, ingress: { enabled: true, className: 'nginx', hosts: [{ host: 'hub.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }], tls: [{ secretName: 'hub-tls', hosts: ['hub.example.com'] }] } };

test('helm lint passes with the default values and with each transport', { timeout: HELM_TIMEOUT }, async (t) => {
  if (!(await helm())) { t.skip('QS_SKIP_HELM_TEST=1: no helm here'); return; }
  const sets = [[], ['--set', 'transport.type=local'], ['--set', 'transport.type=redis', '--set', 'transport.redis.addresses={redis:6379}', '--set', 'replicaCount=3'],
    ['--set', 'transport.type=postgres', '--set', 'transport.postgres.url=postgres://u:p@pg/db', '--set', 'replicaCount=3'],
    ['--set', 'transport.type=kafka', '--set', 'transport.kafka.addresses={kafka:9092}', '--set', 'replicaCount=3'],
    ['--set', 'transport.type=pulsar', '--set', 'transport.pulsar.url=pulsar://pulsar:6650', '--set', 'replicaCount=3']];
  for (const s of sets) {
    const { stdout } = await run(await helm(), ['lint', '--strict', CHART, ...s]);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/, s.join(' '));
  }
});

test('bolt (default): one pod, Recreate, JWT keys and license from the Secret, probes, volumes, the image Caddyfile', { timeout: HELM_TIMEOUT }, async (t) => {
  if (!(await helm())) { t.skip('QS_SKIP_HELM_TEST=1: no helm here'); return; }
  const objs = await template({ ...KEYS, image: { repository: 'registry.example.com/quicksilver', tag: '1.2.3' } });
  assert.deepEqual(objs.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'Secret', 'Service', 'ServiceAccount']);
  const dep = one(objs, 'Deployment');
  assert.equal(dep.spec.replicas, 1);
  assert.equal(dep.spec.strategy.type, 'Recreate', 'never two bolt pods at once');
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(c.image, 'registry.example.com/quicksilver:1.2.3');
  assert.equal(c.securityContext.runAsNonRoot, true);
  assert.equal(c.securityContext.runAsUser, 65532);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(c.livenessProbe.exec.command, ['/usr/bin/quicksilver', 'healthcheck', 'live']);
  assert.deepEqual(c.readinessProbe.exec.command, ['/usr/bin/quicksilver', 'healthcheck', 'ready']);
  assert.deepEqual(c.volumeMounts.map((m: any) => m.mountPath).sort(), ['/config', '/data', '/etc/caddy', '/tmp']);
  const secret = one(objs, 'Secret');
  const ref = (name: string) => c.env.find((e: any) => e.name === name)?.valueFrom?.secretKeyRef;
  for (const [envName, key, value] of [['MERCURE_PUBLISHER_JWT_KEY', 'publisher-jwt-key', KEYS.publisherJwtKey], ['MERCURE_SUBSCRIBER_JWT_KEY', 'subscriber-jwt-key', KEYS.subscriberJwtKey], ['MERCURE_LICENSE', 'license', KEYS.license]] as const) {
    assert.deepEqual({ name: ref(envName)?.name, key: ref(envName)?.key }, { name: secret.metadata.name, key }, envName);
    assert.equal(b64(secret.data![key]!), value);
  }
  const svc = one(objs, 'Service');
  assert.deepEqual(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort]), [['http', 80, 'http'], ['metrics', 9180, 'metrics']]);

  const tr = adaptedTransport(objs, 'qs-quicksilver-0');
  assert.deepEqual(tr, { name: 'bolt', path: '/data/mercure.db', '@span': (tr as any)['@span'] });

  // The chart's Caddyfile is the image's, plus the transport and metrics parts.
  const strip = (s: string) => s.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')).map((l) => l.replace(/^\s+/, '')).join('\n');
  const chartText = one(objs, 'ConfigMap').data!.Caddyfile!;
  const withoutAdditions = chartText.replace(/\n:9180 \{[\s\S]*?\n\}\n/, '\n').replace(/\n\t\ttransport bolt \{\n\t\t\tpath [^\n]+\n\t\t\}/, '');
  assert.equal(strip(withoutAdditions), strip(readFileSync(join(ROOT, 'Caddyfile.example'), 'utf8')));
});

test('bolt and local refuse more than one replica, and autoscaling', { timeout: HELM_TIMEOUT }, async (t) => {
  if (!(await helm())) { t.skip('QS_SKIP_HELM_TEST=1: no helm here'); return; }
  for (const type of ['bolt', 'local']) {
    assert.match(await templateError({ transport: { type }, replicaCount: 3 }), new RegExp(`replicaCount is 3 but the ${type} transport runs on a single node`));
    assert.match(await templateError({ transport: { type }, autoscaling: { enabled: true, maxReplicas: 5 } }), new RegExp(`autoscaling may start 5 pods but the ${type} transport runs on a single node`));
  }
  assert.match(await templateError({ transportUrl: 'bolt:///data/mercure.db', replicaCount: 2 }), /the bolt transport runs on a single node/);
  assert.match(await templateError({ transport: { type: 'redis' }, replicaCount: 3 }), /transport\.redis\.addresses: at least one host:port is required/);
  assert.match(await templateError({ transport: { type: 'nats' } }), /transport\.type "nats" is not one of/);
});

const CASES: Array<{ type: string; values: object; expect: (tr: Record<string, unknown>, pod: string) => void; text: RegExp }> = [
  {
    type: 'redis',
    values: { transport: { type: 'redis', redis: { addresses: ['redis-master:6379'], stream: 'hub', password: 's3cret', tls: true, maxLength: 5000 } } },
    text: /\ttransport redis \{\n\t\t\taddress redis-master:6379\n\t\t\tstream hub\n\t\t\tpassword \{\$QS_TRANSPORT_PASSWORD\}\n\t\t\ttls\n\t\t\tmax_length 5000\n\t\t\}/,
    expect: (tr) => {
      assert.equal(tr.name, 'redis');
      assert.equal(tr.stream, 'hub');
      assert.equal(tr.password, 's3cret', 'the password reaches the transport from the Secret');
      assert.equal(tr.max_length, 5000);
    },
  },
  {
    type: 'postgres',
    values: { transport: { type: 'postgres', postgres: { url: 'postgres://mercure:pw@pg:5432/mercure?sslmode=disable' } } },
    text: /\ttransport postgres \{\n\t\t\turl \{\$QS_TRANSPORT_URL\}\n\t\t\}/,
    expect: (tr) => { assert.equal(tr.name, 'postgres'); assert.equal(tr.url, 'postgres://mercure:pw@pg:5432/mercure?sslmode=disable'); },
  },
  {
    type: 'kafka',
    values: { transport: { type: 'kafka', kafka: { addresses: ['k1:9092', 'k2:9092'], topic: 'hub', user: 'kevin', password: 'maman', tls: true } } },
    text: /\ttransport kafka \{\n\t\t\taddresses k1:9092 k2:9092\n\t\t\ttopic hub\n\t\t\tconsumer_group \{\$POD_NAME\}\n\t\t\tuser kevin\n\t\t\tpassword \{\$QS_TRANSPORT_PASSWORD\}\n\t\t\ttls\n\t\t\}/,
    expect: (tr, pod) => { assert.equal(tr.name, 'kafka'); assert.equal(tr.consumer_group ?? tr.consumerGroup, pod, 'each pod is its own consumer group'); },
  },
  {
    type: 'pulsar',
    values: { transport: { type: 'pulsar', pulsar: { url: 'pulsar://pulsar:6650', topic: 'hub' } } },
    text: /\ttransport pulsar \{\n\t\t\turl pulsar:\/\/pulsar:6650\n\t\t\ttopic hub\n\t\t\tsubscription_name \{\$POD_NAME\}\n\t\t\}/,
    expect: (tr, pod) => { assert.equal(tr.name, 'pulsar'); assert.equal(tr.subscription_name ?? tr.subscriptionName, pod, 'each pod has its own subscription'); },
  },
];

for (const c of CASES) {
  test(`${c.type}: three pods, PDB, ServiceMonitor, Ingress, the transport block as ha-multi-node.md spells it`, { timeout: HELM_TIMEOUT }, async (t) => {
    if (!(await helm())) { t.skip('QS_SKIP_HELM_TEST=1: no helm here'); return; }
    const objs = await template({ ...KEYS, ...MULTI, ...c.values });
    assert.deepEqual(objs.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'Ingress', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor']);
    const dep = one(objs, 'Deployment');
    assert.equal(dep.spec.replicas, 3);
    assert.equal(dep.spec.strategy, undefined, 'rolling updates across nodes');
    const sel = dep.spec.selector.matchLabels;
    assert.deepEqual(one(objs, 'PodDisruptionBudget').spec, { maxUnavailable: 1, selector: { matchLabels: sel } });
    const sm = one(objs, 'ServiceMonitor');
    assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
    assert.deepEqual(sm.spec.endpoints.map((e: any) => [e.port, e.path]), [['metrics', '/metrics']]);
    assert.deepEqual(sm.spec.selector.matchLabels, sel);
    const ing = one(objs, 'Ingress');
    assert.equal(ing.spec.ingressClassName, 'nginx');
    assert.deepEqual(ing.spec.rules[0].http.paths[0].backend, { service: { name: one(objs, 'Service').metadata.name, port: { name: 'http' } } });
    assert.deepEqual(ing.spec.tls, [{ hosts: ['hub.example.com'], secretName: 'hub-tls' }]);

    const caddyfile = one(objs, 'ConfigMap').data!.Caddyfile!;
    assert.match(caddyfile, c.text);
    assert.doesNotMatch(caddyfile, /s3cret|maman|:pw@/, 'no secret in the ConfigMap');
    const trs = ['qs-quicksilver-7d9f-a', 'qs-quicksilver-7d9f-b'].map((pod) => [pod, adaptedTransport(objs, pod)] as const);
    for (const [pod, tr] of trs) {
      if (typeof tr === 'string') { t.skip(tr); return; }
      c.expect(tr, pod);
    }
  });
}

test('autoscaling renders an HPA and leaves replicas to it', { timeout: HELM_TIMEOUT }, async (t) => {
  if (!(await helm())) { t.skip('QS_SKIP_HELM_TEST=1: no helm here'); return; }
  const objs = await template({ transport: { type: 'redis', redis: { addresses: ['redis:6379'] } }, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70, targetMemoryUtilizationPercentage: 75 } });
  const hpa = one(objs, 'HorizontalPodAutoscaler');
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.scaleTargetRef.name], [2, 6, one(objs, 'Deployment').metadata.name]);
  assert.deepEqual(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization]), [['cpu', 70], ['memory', 75]]);
  assert.equal(one(objs, 'Deployment').spec.replicas, undefined);
});

test('existingSecret: no Secret rendered, every key read from the named one', { timeout: HELM_TIMEOUT }, async (t) => {
  if (!(await helm())) { t.skip('QS_SKIP_HELM_TEST=1: no helm here'); return; }
  const objs = await template({ existingSecret: 'my-hub-keys', transport: { type: 'postgres' }, replicaCount: 2 });
  assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0);
  const env = one(objs, 'Deployment').spec.template.spec.containers[0].env as any[];
  const refs = env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]);
  assert.deepEqual(refs, [
    ['MERCURE_PUBLISHER_JWT_KEY', 'my-hub-keys', 'publisher-jwt-key'],
    ['MERCURE_SUBSCRIBER_JWT_KEY', 'my-hub-keys', 'subscriber-jwt-key'],
    ['MERCURE_EXTRA_DIRECTIVES', 'my-hub-keys', 'extra-directives'],
    ['MERCURE_LICENSE', 'my-hub-keys', 'license'],
    ['QS_TRANSPORT_URL', 'my-hub-keys', 'transport-url'],
  ]);
});

test('the reference chart\'s values work: transportUrl, extraDirectives, globalOptions, caddyExtraDirectives, dev', { timeout: HELM_TIMEOUT }, async (t) => {
  if (!(await helm())) { t.skip('QS_SKIP_HELM_TEST=1: no helm here'); return; }
  const objs = await template({
    ...KEYS, replicaCount: 2, transportUrl: 'redis://redis:6379/mercure', extraDirectives: 'heartbeat 15s', dev: true,
    globalOptions: 'grace_period 5s', caddyExtraDirectives: 'respond /ping "pong" 200', caddyExtraConfig: '(snip) {\n\theader X-A b\n}',
  });
  const env = podEnv(objs, 'qs-quicksilver-0');
  assert.equal(env.MERCURE_EXTRA_DIRECTIVES, 'heartbeat 15s');
  assert.equal(env.GLOBAL_OPTIONS, 'grace_period 5s');
  assert.equal(env.CADDY_SERVER_EXTRA_DIRECTIVES, 'respond /ping "pong" 200');
  assert.equal(env.QS_TRANSPORT_URL, 'redis://redis:6379/mercure');
  const tr = adaptedTransport(objs, 'qs-quicksilver-0');
  assert.deepEqual(tr, { transport_url: 'redis://redis:6379/mercure' });
  const json = JSON.stringify(adaptText(one(objs, 'ConfigMap').data!.Caddyfile!, 'caddyfile', 'Caddyfile', env).config);
  for (const flag of ['"ui":true', '"demo":true', '"anonymous":true', '"subscriptions":true']) assert.ok(json.includes(flag), `dev mode sets ${flag}`);
  assert.ok(json.includes('"pong"'), 'caddyExtraDirectives reach the site');
  assert.ok(json.includes('"grace_period"'), 'globalOptions reach the global block');
});

test('the chart\'s Caddyfile serves: the hub, and the admin endpoint\'s /metrics on the metrics port', { timeout: HELM_TIMEOUT }, async (t) => {
  if (!(await helm())) { t.skip('QS_SKIP_HELM_TEST=1: no helm here'); return; }
  const [http, metrics, admin] = [await freePort(), await freePort(), await freePort()];
  const objs = await template({ ...KEYS, service: { targetPort: http }, metrics: { port: metrics }, transport: { bolt: { path: join(work, 'chart-bolt.db') } } });
  const env = { ...podEnv(objs, 'qs-quicksilver-0'), CADDY_ADMIN: `127.0.0.1:${admin}` };
  const hub = await startHub(one(objs, 'ConfigMap').data!.Caddyfile!, { env });
  t.after(() => hub.stop());
  const publish = await fetch(`http://127.0.0.1:${http}/.well-known/mercure`, {
    method: 'POST', body: new URLSearchParams({ topic: 'https://example.com/chart', data: 'x' }),
    headers: { Authorization: `Bearer ${await token(KEYS.publisherJwtKey, { publish: ['*'] })}` },
  });
  assert.equal(publish.status, 200, 'the JWT key from the Secret verifies the publisher');
  await publish.arrayBuffer();
  const res = await fetch(`http://127.0.0.1:${metrics}/metrics`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^mercure_updates_total(\{[^}]*\})? 1$/m);
  const other = await fetch(`http://127.0.0.1:${metrics}/config/`);
  assert.equal(other.status, 404, 'only /metrics of the admin endpoint is exposed');
  await other.arrayBuffer();
});

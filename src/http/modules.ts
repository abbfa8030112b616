/**
 * Registers the HTTP core modules: the http and tls apps, handlers, matchers
 * and reverse_proxy transports, and rate_limit (mholt/caddy-ratelimit). Called once
 * from src/runtime/standard.ts.
 */
import { registerModule, type Module } from '../host/module.ts';
import { HttpApp } from './app.ts';
import { Encode } from './handlers/encode.ts';
import { FileServer } from './handlers/file-server.ts';
import { Headers } from './handlers/headers.ts';
import { MetricsHandler } from './handlers/metrics.ts';
import { Rewrite } from './handlers/rewrite.ts';
import { StaticResponse } from './handlers/static-response.ts';
import { Subroute } from './handlers/subroute.ts';
import { Vars } from './handlers/vars.ts';
import { ExpressionMatcher } from './matchers/expression.ts';
import { FileMatcher } from './matchers/file.ts';
import { NotMatcher } from './matchers/not.ts';
import { PathMatcher, PathRegexpMatcher } from './matchers/path.ts';
import {
  HeaderMatcher, HeaderRegexpMatcher, HostMatcher, MethodMatcher, ProtocolMatcher, QueryMatcher, RemoteIpMatcher, VarsMatcher,
} from './matchers/request.ts';
import { ReverseProxy } from './reverse-proxy/handler.ts';
import { HttpTransport } from './reverse-proxy/transport-http.ts';
import { FastcgiTransport } from './reverse-proxy/transport-fastcgi.ts';
import { TlsApp } from './tls/app.ts';
import { RateLimitHandler } from './rate-limit/handler.ts';

let done = false;

/** Registers every module of the HTTP core (idempotent). */
export function registerHttpModules(): void {
  if (done) return;
  done = true;
  const m = (id: string, create: (cfg: any) => Module) => registerModule({ id, create });
  m('apps.http', (cfg) => new HttpApp(cfg));
  m('apps.tls', (cfg) => new TlsApp(cfg));
  // handlers
  m('http.handlers.static_response', (cfg) => new StaticResponse(cfg));
  m('http.handlers.subroute', (cfg) => new Subroute(cfg));
  m('http.handlers.vars', (cfg) => new Vars(cfg));
  m('http.handlers.headers', (cfg) => new Headers(cfg));
  m('http.handlers.rewrite', (cfg) => new Rewrite(cfg));
  m('http.handlers.encode', (cfg) => new Encode(cfg));
  m('http.handlers.file_server', (cfg) => new FileServer(cfg));
  m('http.handlers.metrics', (cfg) => new MetricsHandler(cfg));
  m('http.handlers.reverse_proxy', (cfg) => new ReverseProxy(cfg));
  m('http.reverse_proxy.transport.http', (cfg) => new HttpTransport(cfg));
  m('http.handlers.rate_limit', (cfg) => new RateLimitHandler(cfg));
  m('http.reverse_proxy.transport.fastcgi', (cfg) => new FastcgiTransport(cfg));
  // matchers
  m('http.matchers.path', (cfg) => new PathMatcher(cfg));
  m('http.matchers.path_regexp', (cfg) => new PathRegexpMatcher(cfg));
  m('http.matchers.host', (cfg) => new HostMatcher(cfg));
  m('http.matchers.method', (cfg) => new MethodMatcher(cfg));
  m('http.matchers.header', (cfg) => new HeaderMatcher(cfg));
  m('http.matchers.header_regexp', (cfg) => new HeaderRegexpMatcher(cfg));
  m('http.matchers.query', (cfg) => new QueryMatcher(cfg));
  m('http.matchers.protocol', (cfg) => new ProtocolMatcher(cfg));
  m('http.matchers.remote_ip', (cfg) => new RemoteIpMatcher(cfg));
  m('http.matchers.client_ip', (cfg) => new RemoteIpMatcher(cfg, true));
  m('http.matchers.vars', (cfg) => new VarsMatcher(cfg));
  m('http.matchers.not', (cfg) => new NotMatcher(cfg));
  m('http.matchers.file', (cfg) => new FileMatcher(cfg));
  m('http.matchers.expression', (cfg) => new ExpressionMatcher(cfg));
}

/**
 * Registers the HTTP core directives and matchers (called once from
 * directives/index.ts). Handler directives get the optional matcher token
 * consumed by the registry; the others parse their own first argument.
 */
import { parseBind } from './bind.ts';
import { parseEncode } from './encode.ts';
import { parseFileServer } from './file-server.ts';
import { parseLog } from './log.ts';
import { parseMetricsDirective } from './metrics.ts';
import { parseReverseProxy } from './reverse-proxy.ts';
import { parseRewrite } from './rewrite.ts';
import { parseTls } from './tls.ts';
import { parseUri } from './uri.ts';
import { parseHandle } from './handle.ts';
import { parseHandleErrors } from './handle-errors.ts';
import { parseHandlePath } from './handle-path.ts';
import { parseHeader } from './header.ts';
import { parseLogSkip } from './log-skip.ts';
import { registerHttpMatchers } from './matchers.ts';
import { parseRedir } from './redir.ts';
import { registerDirective, registerHandlerDirective } from './registry.ts';
import { parseRespond } from './respond.ts';
import { parseRoot } from './root.ts';
import { parseRoute } from './route.ts';

let done = false;

/** Registers every HTTP core directive and matcher (idempotent). */
export function registerHttpDirectives(): void {
  if (done) return;
  done = true;
  registerHttpMatchers();
  registerHandlerDirective('respond', parseRespond);
  registerHandlerDirective('redir', parseRedir);
  registerDirective('root', parseRoot);
  registerDirective('header', parseHeader);
  registerHandlerDirective('log_skip', parseLogSkip);
  registerHandlerDirective('skip_log', parseLogSkip);
  registerHandlerDirective('handle', parseHandle);
  registerDirective('handle_path', parseHandlePath);
  registerHandlerDirective('route', parseRoute);
  registerDirective('handle_errors', parseHandleErrors);
  registerDirective('bind', parseBind);
  registerDirective('tls', parseTls);
  registerDirective('log', parseLog);
  registerHandlerDirective('encode', parseEncode);
  registerHandlerDirective('file_server', parseFileServer);
  registerHandlerDirective('rewrite', parseRewrite);
  registerHandlerDirective('uri', parseUri);
  registerHandlerDirective('reverse_proxy', parseReverseProxy);
  registerHandlerDirective('metrics', parseMetricsDirective);
}

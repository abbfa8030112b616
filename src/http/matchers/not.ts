/**
 * `http.matchers.not`: `[ {matcher set}, … ]`. True when none of the sets
 * matches (the sets are OR-ed, then negated), as in Caddy's MatchNot.
 */
import type { ModuleContext } from '../../host/module.ts';
import { ConfigError } from '../../host/errors.ts';
import type { HttpContext, MatcherSet, RequestMatcher } from '../handler.ts';
import { loadMatcherSets, matchesAny } from '../routes.ts';

export class NotMatcher implements RequestMatcher {
  /** Lifecycle: nothing to check, release. */
  validate(): void {}
  cleanup(): void {}
  readonly config: MatcherSet[];
  #sets: RequestMatcher[][] = [];

  constructor(config: unknown) {
    const sets = Array.isArray(config) ? config : config && typeof config === 'object' ? [config] : undefined;
    if (!sets) throw new ConfigError('ERR_CFG_JSON', undefined, 'not matcher: expected a list of matcher sets');
    this.config = sets as MatcherSet[];
  }

  async provision(ctx: ModuleContext): Promise<void> {
    this.#sets = await loadMatcherSets(ctx, this.config);
  }

  match(c: HttpContext): boolean {
    return this.#sets.length > 0 && !matchesAny(this.#sets, c);
  }
}

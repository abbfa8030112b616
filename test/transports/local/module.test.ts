/** `mercure.transports.local` through the shared module conformance suite: every local config shares one in-memory stream. */
import { localTransport } from '../../../src/transports/local/index.ts';
import { moduleConformance } from '../module-conformance.ts';

moduleConformance({
  descriptor: localTransport,
  config: async () => ({}),
  legacy: ['local://local', {}],
});

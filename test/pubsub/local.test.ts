import { Fanout } from '../../src/pubsub/fanout.ts';
import { LocalBackend } from '../../src/pubsub/local.ts';
import { transportConformance } from './conformance.ts';

transportConformance('local', async () => {
  const transport = new Fanout(new LocalBackend());
  await transport.start();
  return { transport, cleanup: () => transport.close() };
}, { history: false });

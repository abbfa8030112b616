import { clusterSuite } from './cluster-suite.ts';
import { postgresSkip, startPostgres } from '../helpers/postgres-server.ts';

clusterSuite('postgres', async () => {
  const skip = postgresSkip();
  if (skip) return skip;
  const pg = await startPostgres();
  const url = await pg.createDatabase();
  return {
    transport: `transport postgres {\n\turl ${url}\n}`,
    stop: () => pg.stop(),
    start: () => pg.start(),
    destroy: () => pg.destroy(),
  };
});

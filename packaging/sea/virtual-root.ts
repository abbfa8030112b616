/** Where the single executable's sources "live": reads under it come from SEA assets (entry.ts). */
export const VIRTUAL_ROOT = '/$quicksilver-sea/';

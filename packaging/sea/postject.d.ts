/** The part of postject's API that build.ts uses (the package ships no types). */
declare module 'postject' {
  export function inject(file: string, resource: string, data: Buffer, options?: { sentinelFuse?: string; machoSegmentName?: string; overwrite?: boolean }): Promise<void>;
  const postject: { inject: typeof inject };
  export default postject;
}

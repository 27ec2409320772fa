// Types for scripts/source-map.mjs (the zip build trims the bundles' source maps with it), for its test.
export interface SourceMap {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  [key: string]: unknown;
}

export declare const trimSourceMap: (map: SourceMap, keep?: (source: string) => boolean) => SourceMap;

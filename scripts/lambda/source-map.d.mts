export interface SourceMap {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  [key: string]: unknown;
}

export declare const trimSourceMap: (map: SourceMap, keep?: (source: string) => boolean) => SourceMap;

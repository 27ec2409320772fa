// Types for scripts/moto.mjs, for the TypeScript test tiers that start moto.

export declare const MOTO_INSTALL_HINT: string;

export interface Moto {
  endpoint: string;
  controlEndpoint: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export declare const startMoto: (options?: {
  timeoutMs?: number;
  /** The server in scripts/ to run (default moto-server.py). */
  script?: 'moto-server.py' | 'iac-moto-server.py';
}) => Promise<Moto>;

export declare const motoControl: (
  controlEndpoint: string,
  command:
    | { op: 'set-user-status'; userPoolId: string; username: string; status: string }
    | { op: 'throttle'; operation: 'AdminGetUser' | 'ListUsers' | 'DescribeUserPool'; count: number },
) => Promise<void>;

export declare const motoEnv: (endpoint: string, controlEndpoint?: string) => Record<string, string>;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

type Provider<T> = T | (() => T | Promise<T>);

/** The SDK client configuration the client reads; the rest is ignored. */
export interface AwsJsonClientConfig {
  region?: Provider<string>;
  credentials?: Provider<AwsCredentials>;
  endpoint?: Provider<string | URL | { url: string | URL }>;
  maxAttempts?: number;
  requestHandler?: { connectionTimeout?: number; requestTimeout?: number; throwOnRequestTimeout?: boolean };
  useFipsEndpoint?: boolean;
  useDualstackEndpoint?: boolean;
  /** SQS: false skips the MD5 check of what was sent. */
  md5?: boolean;
}

export interface AwsJsonService {
  clientName: string;
  serviceId: string;
  endpointPrefix: string;
  signingName: string;
  target: string;
  jsonVersion: '1.0' | '1.1';
  queryCompatible?: boolean;
  errorNames?: Record<string, string>;
  queueUrlEndpoint?: boolean;
}

export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  extendedRequestId?: string;
  cfId?: string;
  attempts?: number;
  totalRetryDelay?: number;
  clockSkewCorrected?: boolean;
}

export interface Command {
  readonly input: object;
}

export interface CommandClass {
  new (input?: object): Command;
  readonly operation: string;
}

export interface SendOptions {
  abortSignal?: AbortSignal;
  requestTimeout?: number;
}

type Middleware = (
  next: (args: { input: object; request: { headers: Record<string, string> } }) => Promise<unknown>,
  context: { clientName: string; commandName: string },
) => (args: { input: object; request: { headers: Record<string, string> } }) => Promise<unknown>;

export interface MiddlewareStack {
  add(middleware: Middleware, options?: { name?: string; step?: string }): void;
  addRelativeTo(
    middleware: Middleware,
    options: { name?: string; relation: 'before' | 'after'; toMiddleware: string },
  ): void;
  use(plugin: { applyToStack(stack: MiddlewareStack): void }): void;
  remove(nameOrMiddleware: string | Middleware): boolean;
  identify(): string[];
}

export declare class AwsJsonClient {
  constructor(service: AwsJsonService, config?: AwsJsonClientConfig);
  readonly middlewareStack: MiddlewareStack;
  readonly config: AwsJsonClientConfig & { region: () => Promise<string>; serviceId: string };
  // biome-ignore lint/suspicious/noExplicitAny: outputs are as loose as the JSON the service answers
  send(command: Command, options?: SendOptions): Promise<Record<string, any> & { $metadata: ResponseMetadata }>;
  destroy(): void;
}

export declare const defineCommand: (
  operation: string,
  options?: { dates?: string[]; blobs?: string[]; check?: (input: object, output: object) => void },
) => CommandClass;

export declare const sha256Hex: (data: string) => string;

export declare const signRequest: (request: {
  method: string;
  path?: string;
  query?: [string, string][];
  headers: Record<string, string>;
  payloadHash: string;
  credentials: AwsCredentials;
  region: string;
  service: string;
  date: Date;
}) => { canonicalRequest: string; stringToSign: string; signedHeaders: string; signature: string };

export declare const resolveEndpoint: (
  service: AwsJsonService,
  config: AwsJsonClientConfig,
  region: string,
  env?: Record<string, string | undefined>,
) => Promise<URL>;

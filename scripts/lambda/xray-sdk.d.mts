// Types of scripts/lambda/xray-sdk.mjs, the Lambda zips' stand-in for aws-xray-sdk-core: the
// SDK's own, for the part of its API the stand-in has.
import type * as XRay from 'aws-xray-sdk-core';

export declare const Segment: typeof XRay.Segment;
export declare const Subsegment: typeof XRay.Subsegment;
export declare const getSegment: typeof XRay.getSegment;
export declare const setSegment: typeof XRay.setSegment;
export declare const captureAWSv3Client: typeof XRay.captureAWSv3Client;
export declare const captureAsyncFunc: typeof XRay.captureAsyncFunc;
export declare const captureFunc: typeof XRay.captureFunc;
export declare const captureHTTPsGlobal: typeof XRay.captureHTTPsGlobal;
export declare const setContextMissingStrategy: typeof XRay.setContextMissingStrategy;
export declare const setDaemonAddress: typeof XRay.setDaemonAddress;
export declare const setLogger: typeof XRay.setLogger;
/** The SDK's parameter capture list (resources/aws_whitelist.json), for the services kept. */
export declare const WHITELIST: Record<string, { operations: Record<string, unknown> }>;

/**
 * roomrpc's TypeScript client: `createClient({ url })`, then
 * `await client.system.health()`; every procedure typed end to end.
 */

export { CONTRACT_HASH, createClient, PROCEDURES } from "./contract.gen.js";
export type * from "./contract.gen.js";
export { CORE_ERRORS, ERROR_TABLE } from "./errors.gen.js";
export type { CoreErrorCode, CoreReason, ErrorCode, ErrorData, ErrorObject, Issue } from "./errors.gen.js";
export { NetworkError, ResponseError, RpcError, isCoreError, isRpcError } from "./errors.js";
export type { ErrorContext, ResponseProblem, RpcErrorOptions } from "./errors.js";
export type {
  AbortSignalLike,
  FetchInit,
  FetchLike,
  FetchResponse,
  HeadersLike,
  PlatformAbortSignal,
  StreamReader,
  UrlLike,
  WebSocketConstructor,
  WebSocketLike,
} from "./platform.js";
export { buildClient } from "./client.js";
export type {
  AnyProcedure,
  ArgsOf,
  CallOptions,
  ClientOptions,
  ErrorCodeOf,
  ErrorOf,
  HeadersSource,
  InputOf,
  OutputOf,
  Procedure,
  ProcedureMeta,
  RawClient,
  ReasonOf,
  RetryOptions,
  TokenContext,
  TokenSource,
  IterateArgs,
  IterateOptions,
  SubscribeArgs,
  Subscription,
  SubscriptionError,
  SubscriptionHandlers,
  TrackedEvent,
  Unsubscribable,
} from "./client.js";

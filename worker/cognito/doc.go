// Package cognito is the one call the campaign is about: ResendConfirmationCode.
//
//	limiter.Wait ─► ResendConfirmationCode ─► Classify ─► retry? (go-retry, pacing.Policy)
//	                        │                     └─► Breaker.Observe, Limiter.Observe
//	                        └─ SECRET_HASH (SecretHash) when the app client has a secret
//
// Resender runs one job to a Result through Call, the attempt loop every per-user Cognito
// call shares (the resend, and userpool's AdminGetUser with its own limiter): every
// attempt waits on the call's limiter, is bounded and classified, feeds the limiter and
// the breaker, and go-retry (pacing.Retry) is the only retry layer — the client must have
// aws.NopRetryer{}. Classify is the one classifier: errors.As on Cognito's typed
// exceptions; message text only where one type has two meanings (LimitExceeded,
// InvalidParameter, NotAuthorized). It sorts every answer into success, retryable,
// per-user final or systemic; a transport fault is Unsent when its connection was never
// made (a failed dial, DNS: it can't have reached Cognito, so it is neither ambiguous nor
// counted against --max-attempts) and names its endpoint and cause for the breaker.
package cognito

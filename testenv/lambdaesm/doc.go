// Package lambdaesm is a small AWS Lambda of the project's own, for tests without Docker
// or AWS: the Runtime API a provided.al2023 function talks to, and an SQS event source
// mapping (ESM) that polls a queue (fauxqs) the way Lambda's does.
//
// Each execution environment is one process of the function (the built binary, named
// bootstrap or run as `cognito-resend lambda`) with AWS_LAMBDA_RUNTIME_API pointing at
// a Runtime API server of its own (127.0.0.1, a kernel-picked port):
//
//	GET  /2018-06-01/runtime/invocation/next          the next batch, with
//	                                                  Lambda-Runtime-Aws-Request-Id and
//	                                                  Lambda-Runtime-Deadline-Ms
//	POST /2018-06-01/runtime/invocation/{id}/response the function's answer
//	POST /2018-06-01/runtime/invocation/{id}/error    a function error
//	POST /2018-06-01/runtime/init/error               a failed cold start
//
// The ESM runs MaxConcurrency environments at once (ScalingConfig.MaximumConcurrency),
// each one invocation at a time. For each, it receives up to BatchSize messages (10 a
// ReceiveMessage, within the batching Window), with the queue's own visibility timeout,
// and applies ReportBatchItemFailures as Lambda documents it: an empty or null list
// deletes the whole batch; listed ids stay (they come back after the visibility
// timeout, their receive count one higher); a function error, a crash, a timeout,
// invalid JSON, or an empty or unknown itemIdentifier deletes nothing (the whole batch
// comes back). A timeout ends the environment (SIGKILL; the next invocation starts a
// new process, a cold start), as does a crash; an invocation that fails as a whole backs
// the environment's polling off.
package lambdaesm

// Package job holds the types every stage of the pipeline shares, and nothing else: Job
// (one username from a source), Result (one report row), Status and ErrorClass, the
// Source interface, and Verdict (what a claim on a user found). It imports nothing of
// the project.
//
//	Source.Next ──► Job ──► admit ─► verify ─► claim ─► limiter ─► resender ──► Result ──► report ──► Job.Ack
//
// The status rules live here once: Known (a row of ours), Conclusive (the user is done
// for good), Result.Redeliver (a redelivering source brings the job back) and
// Result.RetryDue (--retry-failed calls the user again; LimitWindow, Cognito's hour).
package job

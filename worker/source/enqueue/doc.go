// Package enqueue is the producer behind `cognito-resend enqueue`: it reads a source (a
// CSV), admits each row through the same rule as a campaign (admit: valid, not a
// duplicate) and sends one message per user to the queue the SQS source consumes, in
// SendMessageBatch calls of 10.
//
//	csvsource ──► admit ──► EncodeMessageBody ──► SendMessageBatch (pacing.Retry) ──► queue
//
// A FIFO queue gets a MessageDeduplicationId and MessageGroupId from the username
// (UserKey), so enqueuing the same file twice within SQS's 5-minute window adds nothing.
package enqueue

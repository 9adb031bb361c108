package emu

import (
	"context"
	"testing"
)

// Cognito starts cognito-local for the test, stops it in t.Cleanup and calls
// t.Fatal if it cannot start. It does not skip in -short mode; callers decide.
func Cognito(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return startT(t, "cognito-local", StartCognito, opts)
}

// SQS starts fauxqs for the test, stops it in t.Cleanup and calls t.Fatal if
// it cannot start. It does not skip in -short mode; callers decide.
func SQS(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return startT(t, "fauxqs", StartSQS, opts)
}

// Dynamo starts dynalite for the test, stops it in t.Cleanup and calls t.Fatal
// if it cannot start. It does not skip in -short mode; callers decide.
func Dynamo(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return startT(t, "dynalite", StartDynamo, opts)
}

func startT(t testing.TB, name string, startFn func(context.Context, ...Option) (*Server, error), opts []Option) *Server {
	t.Helper()
	s, err := startFn(t.Context(), opts...)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
	return s
}

package emu

import "testing"

// Cognito starts cognito-local for the test, stops it in t.Cleanup and calls
// t.Fatal if it cannot start. It does not skip in -short mode; callers decide.
func Cognito(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := StartCognito(t.Context(), opts...)
	if err != nil {
		t.Fatalf("start cognito-local: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop cognito-local: %v", err)
		}
	})
	return s
}

// SQS starts fauxqs for the test, stops it in t.Cleanup and calls t.Fatal if
// it cannot start. It does not skip in -short mode; callers decide.
func SQS(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := StartSQS(t.Context(), opts...)
	if err != nil {
		t.Fatalf("start fauxqs: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop fauxqs: %v", err)
		}
	})
	return s
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker"
)

// openPool lists the pool's UNCONFIRMED users. ListUsers is a signed call (IAM
// cognito-idp:ListUsers); its first page is fetched here so a missing credential or
// permission is a usage error before any resend.
func openPool(ctx context.Context, cfg config.Config, ac aws.Config) (*source, error) {
	now := time.Now()
	after, _ := config.ParseTimeBound(cfg.CreatedAfter, now) // validated already
	before, _ := config.ParseTimeBound(cfg.CreatedBefore, now)
	src, err := worker.NewUserPoolSource(ctx, worker.UserPoolConfig{
		API: newCognito(ac), PoolID: cfg.UserPoolID, Rate: cfg.ListRate, PageSize: int32(cfg.PageSize),
		CreatedAfter: after, CreatedBefore: before,
		BackoffBase: cfg.BackoffBase, BackoffMax: cfg.BackoffMax, MaxAttempts: cfg.MaxAttempts,
	})
	if err != nil {
		return nil, fmt.Errorf("--user-pool-id: %w", err)
	}
	return &source{src: src, close: func(context.Context) error { src.Close(); return nil },
		desc: []any{"user_pool_id", cfg.UserPoolID}}, nil
}

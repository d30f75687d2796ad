package main

import (
	"context"
	"fmt"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/netguard"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/seal"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// setupOps makes the platform's organization (otw.OpsOrganizationID) and
// its webhook from --ops-webhook-url and --ops-webhook-secret, so that the
// operational events go through the same durable path as every other
// event: stored, retried, in the delivery log. The flags are the truth:
// a URL or secret changed since the last start replaces the stored one.
// Without the flags nothing is made.
func setupOps(ctx context.Context, cfg config, s store.Store, box *seal.Box) error {
	if cfg.opsURL == "" {
		return nil
	}
	if msg := netguard.CheckURL(cfg.opsURL, cfg.allowPrivate); msg != "" {
		return fmt.Errorf("--ops-webhook-url %q: %s", cfg.opsURL, msg)
	}
	now := time.Now()
	if _, err := s.GetOrganization(ctx, otw.OpsOrganizationID); otw.ErrorCode(err) == otw.ENOTFOUND {
		// Its one key is never shown: the admin token reads its log.
		_, hash := service.NewAPIKey()
		key := otw.APIKey{ID: otw.NewID("key_", now), OrganizationID: otw.OpsOrganizationID, Hash: hash, Prefix: "ops", CreatedAt: now}
		org := otw.Organization{ID: otw.OpsOrganizationID, Name: "platform operations", CreatedAt: now}
		if err := s.CreateOrganization(ctx, org, key); err != nil && otw.ErrorCode(err) != otw.ECONFLICT {
			return fmt.Errorf("creating the operations organization: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("reading the operations organization: %w", err)
	}
	set := otw.WebhookSettings{Enabled: true, URL: cfg.opsURL, SubscribedEvents: otw.OpsEventTypes(), Signing: otw.SigningHMAC}
	wh, err := s.SaveWebhook(ctx, otw.OpsOrganizationID, set, box.Seal([]byte(cfg.opsSecret)), now)
	if err != nil {
		return fmt.Errorf("saving the operations webhook: %w", err)
	}
	current, err := box.Open(wh.Secret)
	if err != nil {
		return fmt.Errorf("opening the operations webhook's secret: %w", err)
	}
	if string(current) != cfg.opsSecret {
		// Replaced at once: the flag is the secret the platform verifies with.
		if _, err := s.RotateSecret(ctx, otw.OpsOrganizationID, box.Seal([]byte(cfg.opsSecret)), now, now); err != nil {
			return fmt.Errorf("replacing the operations webhook's secret: %w", err)
		}
	}
	return nil
}

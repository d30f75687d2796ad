package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/seal"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// checkSecretKey refuses to serve with a secret key that cannot open the
// signing secrets already stored. Such a node would start and look
// healthy, then answer 500 for every secret and fail every attempt; a
// node started on the wrong key is a configuration mistake, best named
// before anything is served.
func checkSecretKey(ctx context.Context, cfg config, st store.Store, box *seal.Box) error {
	sealed, err := st.SealedSecret(ctx)
	if otw.IsNotFound(err) {
		return nil // nothing stored yet: any key is the first
	}
	if err != nil {
		return fmt.Errorf("reading a stored signing secret to check the secret key: %w", err)
	}
	if _, err := box.Open(sealed); err == nil {
		return nil
	}
	where := "the key given by --secret-key (OTW_SECRET_KEY)"
	if cfg.secretKey == "" {
		where = "the key in " + secretKeyPath(cfg) + " (used when --secret-key / OTW_SECRET_KEY is not given)"
	}
	return fmt.Errorf("the secret key does not open the signing secrets stored in the database: %s is not the key they were sealed with; "+
		"set --secret-key (OTW_SECRET_KEY) to that key (on several nodes, every node must have the same one)", where)
}

// warnAdminTokenFile says when a given admin token is not the one saved
// beside the SQLite file. Giving another token is allowed (it is how the
// token is changed) and nothing stored depends on it, so serve goes on;
// but whoever reads the file gets a token the service refuses.
func warnAdminTokenFile(cfg config, log *slog.Logger) {
	if cfg.adminToken == "" || cfg.sqlitePath() == "" {
		return
	}
	b, err := os.ReadFile(adminTokenPath(cfg))
	if err != nil || strings.TrimSpace(string(b)) == cfg.adminToken {
		return
	}
	log.Warn("the admin token given by --admin-token (OTW_ADMIN_TOKEN) is not the one saved in the file; the file's token is refused",
		"file", adminTokenPath(cfg))
}

func secretKeyPath(cfg config) string {
	return filepath.Join(filepath.Dir(cfg.sqlitePath()), "secret-key")
}

package auth

import (
	"context"
	"fmt"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/apikey"
)

// CreatedKey is a new key with the secret, which is never available again.
type CreatedKey struct {
	Key    *ent.ApiKey
	Secret string
}

// CreateKey stores a key of kind for appID. An empty secret gets a random one. The
// context decides the privacy: an admin viewer may only create keys in its own app.
func CreateKey(ctx context.Context, client *ent.Client, appID int, kind apikey.Kind, name, secret string) (*CreatedKey, error) {
	if secret == "" {
		var err error
		if secret, err = NewSecret(kind); err != nil {
			return nil, err
		}
	} else if err := ValidateFixedSecret(secret); err != nil {
		return nil, err
	}
	key, err := client.ApiKey.Create().
		SetAppID(appID).
		SetKind(kind).
		SetName(name).
		SetPrefix(DisplayPrefix(secret)).
		SetSecretHash(Hash(secret)).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create %s key: %w", kind, err)
	}
	return &CreatedKey{Key: key, Secret: secret}, nil
}

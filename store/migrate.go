package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// migration moves a store from schema version i to i+1 inside one
// transaction; migrations()[i] is the one for version i.
type migration func(tx *bolt.Tx) error

func migrations() []migration {
	return []migration{migrateV0toV1, migrateV1toV2, migrateV2toV3}
}

// migrate brings the store to SchemaVersion in a single transaction, so a
// failure leaves the file exactly as it was.
func (s *Store) migrate() error {
	// Look first: a write transaction commits a new header even when it
	// changes nothing, and opening must not write to a current store.
	if v, err := s.schema(); err != nil || v == SchemaVersion {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		v, err := readSchema(tx, s.path)
		if err != nil {
			return err
		}
		if v == SchemaVersion {
			return nil
		}
		if v == -1 { // a new, empty file
			for _, b := range allBuckets() {
				if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
					return err
				}
			}
			return setSchema(tx, SchemaVersion)
		}
		ms := migrations()
		for ; v < SchemaVersion; v++ {
			if err := ms[v](tx); err != nil {
				return fmt.Errorf("store %s: migrating schema %d to %d: %w (the file was left unchanged)", s.path, v, v+1, err)
			}
			if err := setSchema(tx, v+1); err != nil {
				return err
			}
		}
		return nil
	})
}

func setSchema(tx *bolt.Tx, v int) error {
	return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchema), []byte(strconv.Itoa(v)))
}

// v0Profile is what authlab 0.x wrote (testdata/store/README.md): no meta
// bucket, OAuth grant names with underscores, endpoints nested, one
// space-separated scope string, the client secret inline, Unix-second times,
// and a tokens bucket holding the bare access token string.
type v0Profile struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Issuer    string `json:"issuer"`
	Endpoints struct {
		Token         string `json:"token"`
		Authorize     string `json:"authorize"`
		Device        string `json:"device"`
		Introspection string `json:"introspection"`
		Revocation    string `json:"revocation"`
		Userinfo      string `json:"userinfo"`
		JWKS          string `json:"jwks"`
	} `json:"endpoints"`
	ClientID     string            `json:"client_id"`
	ClientSecret string            `json:"client_secret"`
	AuthMethod   string            `json:"auth_method"`
	Scope        string            `json:"scope"`
	Audience     string            `json:"audience"`
	RedirectPort int               `json:"redirect_port"`
	Cert         string            `json:"cert"`
	Key          string            `json:"key"`
	CA           string            `json:"ca"`
	Params       map[string]string `json:"params"`
	Tags         []string          `json:"tags"`
	Notes        string            `json:"notes"`
	Created      int64             `json:"created"`
	Updated      int64             `json:"updated"`
}

func v0Kind(t string) (Kind, error) {
	switch t {
	case "client_credentials":
		return KindClientCredentials, nil
	case "authorization_code":
		return KindAuthCode, nil
	case "device_code":
		return KindDevice, nil
	case "token_exchange":
		return KindTokenExchange, nil
	case "mtls":
		return KindMTLS, nil
	}
	return "", fmt.Errorf("unknown v0 profile type %q", t)
}

func migrateV0toV1(tx *bolt.Tx) error {
	for _, b := range allBuckets() {
		if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
			return err
		}
	}
	pb, sb, tb := tx.Bucket([]byte(bucketProfiles)), tx.Bucket([]byte(bucketSecrets)), tx.Bucket([]byte(bucketTokens))
	type kv struct{ k, v []byte }
	var profiles, tokens []kv
	// Collect first: bbolt forbids writing a bucket while iterating it.
	if err := pb.ForEach(func(k, v []byte) error {
		profiles = append(profiles, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		return nil
	}); err != nil {
		return err
	}
	if err := tb.ForEach(func(k, v []byte) error {
		tokens = append(tokens, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		return nil
	}); err != nil {
		return err
	}
	for _, e := range profiles {
		var old v0Profile
		if err := json.Unmarshal(e.v, &old); err != nil {
			return fmt.Errorf("v0 profile %q is unreadable: %v", e.k, err)
		}
		kind, err := v0Kind(old.Type)
		if err != nil {
			return fmt.Errorf("v0 profile %q: %w", e.k, err)
		}
		p := Profile{
			Name: string(e.k), Kind: kind, Issuer: old.Issuer,
			TokenURL: old.Endpoints.Token, AuthURL: old.Endpoints.Authorize, DeviceURL: old.Endpoints.Device,
			IntrospectURL: old.Endpoints.Introspection, RevokeURL: old.Endpoints.Revocation,
			UserinfoURL: old.Endpoints.Userinfo, JWKSURL: old.Endpoints.JWKS,
			ClientID: old.ClientID, AuthMethod: old.AuthMethod, Scopes: strings.Fields(old.Scope),
			RedirectPort: old.RedirectPort, CertFile: old.Cert, KeyFile: old.Key, CAFile: old.CA,
			ExtraParams: old.Params, Tags: old.Tags, Notes: old.Notes,
			CreatedAt: unixOrZero(old.Created), UpdatedAt: unixOrZero(old.Updated),
		}
		if old.Audience != "" {
			p.Audience = []string{old.Audience}
		}
		b, err := json.Marshal(profileRecord{V: 1, Profile: p})
		if err != nil {
			return err
		}
		if err := pb.Put(e.k, b); err != nil {
			return err
		}
		if old.ClientSecret != "" {
			sec := ParseSecret(old.ClientSecret)
			sec.keep = false
			// Confirmation comes with schema 3 (migrateV2toV3).
			sbytes, err := json.Marshal(secretsRecord{V: 1, Secrets: map[SecretKind]storedSecret{ClientSecret: {Ref: sec.ref, Value: sec.value}}})
			if err != nil {
				return err
			}
			if err := sb.Put(e.k, sbytes); err != nil {
				return err
			}
		}
	}
	for _, e := range tokens {
		resp, err := json.Marshal(map[string]string{"access_token": string(e.v), "token_type": "Bearer"})
		if err != nil {
			return err
		}
		b, err := json.Marshal(tokenRecord{V: 1, CachedToken: CachedToken{Flow: "v0", Response: resp}})
		if err != nil {
			return err
		}
		if err := tb.Put(e.k, b); err != nil {
			return err
		}
	}
	return nil
}

func unixOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// migrateV1toV2 moves the request URL of hmac and api-key profiles from
// token_url, where schema 1 kept it, to target_url. Other profiles and
// buckets are untouched.
func migrateV1toV2(tx *bolt.Tx) error {
	pb := tx.Bucket([]byte(bucketProfiles))
	type kv struct{ k, v []byte }
	var moved []kv
	// Collect first: bbolt forbids writing a bucket while iterating it.
	err := pb.ForEach(func(k, v []byte) error {
		var rec profileRecord
		// An unreadable record stays as it is: reading that profile
		// reports it, and the rest of the store stays usable.
		if json.Unmarshal(v, &rec) != nil || !rec.Kind.usesTargetURL() || rec.TokenURL == "" {
			return nil
		}
		rec.carryTargetURL()
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		moved = append(moved, kv{append([]byte(nil), k...), b})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range moved {
		if err := pb.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// migrateV2toV3 binds every secret to the origins its profile sends it to
// now: secrets in an existing store were entered on this machine, so they
// count as confirmed for the hosts their profile names today. Imports and
// origin changes from here on need a person's confirmation.
func migrateV2toV3(tx *bolt.Tx) error {
	sb := tx.Bucket([]byte(bucketSecrets))
	type kv struct{ k, v []byte }
	var out []kv
	// Collect first: bbolt forbids writing a bucket while iterating it.
	err := sb.ForEach(func(k, v []byte) error {
		var sr secretsRecord
		if json.Unmarshal(v, &sr) != nil {
			return nil // reading that profile reports it, as before
		}
		var origins []string
		if p, err := profileRecordTx(tx, string(k)); err == nil {
			origins = p.SecretOrigins()
		}
		for kind, st := range sr.Secrets {
			st.Confirmed, st.Origins = true, origins
			sr.Secrets[kind] = st
		}
		b, err := json.Marshal(sr)
		if err != nil {
			return err
		}
		out = append(out, kv{append([]byte(nil), k...), b})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range out {
		if err := sb.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

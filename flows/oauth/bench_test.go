package oauth_test

import (
	"context"
	"testing"

	"authlab/flows"
	"authlab/flows/oauth"
	"authlab/mockidp/mockidptest"
)

// BenchmarkClientCredentialsWarm is what `authlab bench` loops over: one
// engine (discovery and JWKS cached), a token request, decode and checks.
func BenchmarkClientCredentialsWarm(b *testing.B) {
	idp := mockidptest.New(b)
	eng, err := oauth.New(flows.Request{Flow: flows.FlowClientCredentials, Issuer: idp.Issuer(),
		ClientID: "demo-cc", ClientSecret: "demo-cc-secret", Scopes: []string{"api:read"}}, oauth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if res := eng.ClientCredentials(ctx, nil); res.Failed() {
		b.Fatal(res.Reason())
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := eng.ClientCredentials(ctx, nil); res.Failed() {
				b.Error(res.Reason())
				return
			}
		}
	})
}

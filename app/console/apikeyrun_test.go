package console

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/mockidp"
	"authlab/mockidp/mockidptest"
	"authlab/store"
)

// The demo api-key profile runs from the console backend against the mock
// IdP's /api/key; a wrong key is refused; the key is nowhere in the result
// or the history.
func TestStoreBackendRunsAPIKeyProfiles(t *testing.T) {
	srv := mockidptest.New(t)
	path := demoStore(t, DemoSetup{Issuer: srv.Issuer()})
	wrong := store.Profile{Name: "key-wrong", Kind: store.KindAPIKey, TargetURL: srv.URL() + "/api/key", APIKeyQuery: mockidp.APIKeyQuery,
		Secrets: map[store.SecretKind]store.Secret{store.APIKey: store.SecretValue("not-the-demo-api-key")}}
	if err := store.Update(path, func(s *store.Store) error { return s.PutProfile(wrong, false) }); err != nil {
		t.Fatal(err)
	}
	b := &StoreBackend{Path: path}
	var seen []flows.Exchange
	ev := recordingEvents{ex: &seen}

	res := b.Run(context.Background(), RunRequest{Profile: "demo-apikey"}, ev)
	if res.Failed() || res.Flow != "api-key" || res.Call == nil || res.Call.Status != 200 {
		t.Fatalf("demo-apikey: %q %+v", res.Reason(), res.Call)
	}
	if len(seen) != 1 || seen[0].RequestHeaders.Get(mockidp.APIKeyHeader) != flows.Masked {
		t.Fatalf("exchanges the console saw: %+v", seen)
	}
	res2 := b.Run(context.Background(), RunRequest{Profile: "key-wrong"}, nopEvents{})
	if !res2.Failed() || res2.Err == nil || res2.Err.Status != 401 || !strings.Contains(res2.Reason(), "invalid_api_key") {
		t.Fatalf("key-wrong: %+v", res2.Err)
	}
	hist, err := b.History("demo-apikey")
	if err != nil || len(hist) != 1 || !hist[0].OK {
		t.Fatalf("history %+v %v", hist, err)
	}
	all, _ := json.Marshal([]any{res, res2, hist, seen})
	for _, k := range []string{mockidp.DemoAPIKey, "not-the-demo-api-key"} {
		if strings.Contains(string(all), k) {
			t.Errorf("the key %s shows in the console's records", k)
		}
	}
}

type recordingEvents struct {
	nopEvents
	ex *[]flows.Exchange
}

func (r recordingEvents) Exchange(e flows.Exchange) { *r.ex = append(*r.ex, e) }

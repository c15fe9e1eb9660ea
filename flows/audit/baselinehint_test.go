package audit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"authlab/flows"
	"authlab/flows/dpop"
)

// TestBaselineDPoPHintNamesField: a DPoP-bound token sent as Bearer to a
// resource that refuses it fails the baseline with a hint that names the
// dpop_key field, so each front end can say how to set it, and the
// BaselineError with its statuses is still in the chain.
func TestBaselineDPoPHintNamesField(t *testing.T) {
	key, err := dpop.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	cfg := dpopConfig(t, "", key) // a correct DPoP resource refuses Bearer
	cfg.DPoPKey = nil
	rep := Run(context.Background(), cfg, nil)
	var be *BaselineError
	var fe *flows.Error
	if !errors.As(rep.Err, &be) || be.Status != 401 || !errors.As(rep.Err, &fe) || fe.Kind != flows.ErrConfig {
		t.Fatalf("err %T %v", rep.Err, rep.Err)
	}
	if !strings.Contains(fe.Message, "refused the valid token") || !strings.Contains(fe.Message, "("+string(flows.FieldDPoPKey)+")") {
		t.Errorf("message %q", fe.Message)
	}
	named := fe.Explain(func(f flows.Field) string { return "<" + string(f) + " setting>" })
	if !strings.Contains(named, "(<dpop_key setting>)") || strings.Contains(named, "(dpop_key)") {
		t.Errorf("explained %q", named)
	}
}

package bench

import (
	"context"
	"errors"

	"authlab/flows"
	"authlab/flows/apikey"
)

// APIKeyOp repeats an API-key request as a single run sends it
// (apikey.Request.Build), for every front end that benches one. As
// apikey.Send, it follows no redirect (Client: the key would go along)
// and masks the key in the failures it reports.
func (s *Setup) APIKeyOp(req apikey.Request) (Op, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	sec := &flows.Secrets{}
	sec.Add(req.Key)
	op := s.RequestOp(apikey.Flow, req.Build)
	return func(ctx context.Context) Outcome {
		o := op(ctx)
		o.Err = maskErr(sec, o.Err)
		return o
	}, nil
}

// maskErr hides the key in an outcome's error, keeping a *flows.Error's
// kind and status (failures are grouped by them).
func maskErr(sec *flows.Secrets, err error) error {
	if err == nil {
		return nil
	}
	var fe *flows.Error
	if errors.As(err, &fe) {
		return sec.MaskError(fe)
	}
	if m := sec.Mask(err.Error()); m != err.Error() {
		return errors.New(m)
	}
	return err
}

package store

import "fmt"

// EnsureDPoPKey gives a DPoP profile without a key one of its own, made by
// generate (flows/dpop.GeneratePEM, passed in: the store does no crypto of
// its own) and kept as its dpop_key secret. A DPoP-bound token works only
// with the key it is bound to, so a profile that drew a fresh key per run
// could never use its cached token, refresh it or call an API with it. The
// key never leaves this machine (proofs carry only its public half), so it
// needs no confirmation. It reports whether it created one.
func EnsureDPoPKey(path, name string, generate func(alg string) ([]byte, error), opts ...Option) (bool, error) {
	p, err := LoadProfile(path, name)
	if err != nil || !p.DPoP || !p.Secrets[DPoPKey].IsZero() {
		return false, err
	}
	pem, err := generate(p.DPoPAlg)
	if err != nil {
		return false, fmt.Errorf("profile %s: %v", name, err)
	}
	created := false
	err = Update(path, func(s *Store) error {
		p, err := s.GetProfile(name)
		if err != nil || !p.DPoP || !p.Secrets[DPoPKey].IsZero() {
			return err // gone, changed, or another process gave it a key first
		}
		if p.Secrets == nil {
			p.Secrets = map[SecretKind]Secret{}
		}
		p.Secrets[DPoPKey] = SecretValue(string(pem))
		created = true
		return s.PutProfile(p, true)
	}, opts...)
	return created, err
}

package state

import "fmt"

// Meta command types.
const CmdMetaInit CommandType = 20

func init() {
	registerCommand(CmdMetaInit, "meta.init", applyMetaInit, mustApply)
}

// MetaInit sets the cluster secret once; later ones are ignored so two
// racing leaders cannot replace a secret already in use.
type MetaInit struct {
	Secret []byte `json:"secret"`
}

func applyMetaInit(s *State, c *Command) any {
	body, err := decodeBody[MetaInit](c)
	if err != nil {
		return err
	}
	if len(body.Secret) < 16 {
		return fmt.Errorf("%w: secret shorter than 16 bytes", ErrInvalid)
	}
	if len(s.meta.Secret) == 0 {
		s.meta.Secret = append([]byte(nil), body.Secret...)
		s.changed(MetaChanged, "")
	}
	return nil
}

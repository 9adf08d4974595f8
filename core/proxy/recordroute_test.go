package proxy

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestRecordRoutes(t *testing.T) {
	for _, m := range []sip.RequestMethod{sip.INVITE, sip.SUBSCRIBE, sip.REFER} {
		if !RecordRoutes(m) {
			t.Errorf("%s not record-routed", m)
		}
	}
	for _, m := range []sip.RequestMethod{sip.MESSAGE, sip.REGISTER, sip.OPTIONS, sip.NOTIFY, sip.PUBLISH, sip.BYE, sip.ACK, sip.CANCEL, sip.INFO} {
		if RecordRoutes(m) {
			t.Errorf("%s record-routed", m)
		}
	}
}

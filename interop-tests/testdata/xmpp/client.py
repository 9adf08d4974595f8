# An XMPP user for the interop tests, driven over stdin/stdout in JSON
# lines. argv: jid password host port. Commands:
#   {"cmd": "send", "to": JID, "body": TEXT, "type": "chat", "thread": T}
#   {"cmd": "chatstate", "to": JID, "state": "composing"|"paused"|...}
#   {"cmd": "disco", "to": JID}    {"cmd": "ping", "to": JID}
#   {"cmd": "version", "to": JID}  {"cmd": "quit"}
#   {"cmd": "presence", "show": S, "status": T, "type": "unavailable"}
#   {"cmd": "subscribe", "to": JID} (also unsubscribe, subscribed, unsubscribed)
#   {"cmd": "manual"}  answer subscription requests by hand from now on
# Events: {"ev": "ready"}, {"ev": "message", ..., "chat_state"}, {"ev": "error", ...},
# {"ev": "disco"|"ping"|"version", ...}, and {"ev": "presence", "frm",
# "type", "show", "status"} for every presence stanza received (type is
# slixmpp's: the show for an available one). slixmpp's roster keeps its
# defaults, auto_authorize and auto_subscribe: it answers a subscribe
# with subscribed and a subscribe of its own.
import asyncio, json, sys
import slixmpp

def emit(**kw):
    print(json.dumps(kw), flush=True)

class User(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        for p in ("xep_0030", "xep_0199", "xep_0092", "xep_0085"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.message)
        self.add_event_handler("message_error", self.message_error)
        self.add_event_handler("presence", self.presence)
        # slixmpp's "message" is for messages with a body; xep_0085 raises
        # "chatstate" for every message that carries one.
        self.add_event_handler("chatstate", self.chatstate)

    async def start(self, ev):
        self.send_presence()
        await self.get_roster()
        self.loop.add_reader(sys.stdin, self.command)
        emit(ev="ready")

    def message(self, m):
        if m["type"] == "error":
            return
        emit(ev="message", frm=str(m["from"]), type=m["type"], body=m["body"],
             subject=m["subject"], thread=m["thread"], lang=m["lang"], chat_state=m["chat_state"])

    def chatstate(self, m):
        if not m["body"]:
            emit(ev="message", frm=str(m["from"]), type=m["type"], body="", thread=m["thread"], chat_state=m["chat_state"])

    def presence(self, p):
        emit(ev="presence", frm=str(p["from"]), to=str(p["to"]), type=p["type"], show=p["show"], status=p["status"])

    def message_error(self, m):
        emit(ev="error", frm=str(m["from"]), id=m["id"], cond=m["error"]["condition"],
             etype=m["error"]["type"])

    def command(self):
        line = sys.stdin.readline()
        if not line:
            self.disconnect()
            return
        c = json.loads(line)
        if c["cmd"] == "send":
            m = self.make_message(mto=c["to"], mbody=c["body"], mtype=c.get("type", "chat"))
            if c.get("thread"):
                m["thread"] = c["thread"]
            if c.get("id"):
                m["id"] = c["id"]
            m.send()
        elif c["cmd"] == "chatstate":
            m = self.make_message(mto=c["to"], mtype="chat")
            m["chat_state"] = c["state"]
            m.send()
        elif c["cmd"] == "presence":
            self.send_presence(pshow=c.get("show") or None, pstatus=c.get("status") or None, ptype=c.get("type") or None)
        elif c["cmd"] in ("subscribe", "unsubscribe", "subscribed", "unsubscribed"):
            self.send_presence(pto=c["to"], ptype=c["cmd"])
        elif c["cmd"] == "manual":
            self.roster.auto_authorize = None  # neither approve nor refuse
            self.roster.auto_subscribe = False
            emit(ev="manual")
        elif c["cmd"] == "quit":
            self.disconnect()
        else:
            asyncio.ensure_future(self.query(c))

    async def query(self, c):
        try:
            if c["cmd"] == "disco":
                info = await self["xep_0030"].get_info(jid=c["to"], timeout=10)
                q = info["disco_info"]
                emit(ev="disco", identities=[list(i) for i in q["identities"]], features=list(q["features"]))
            elif c["cmd"] == "ping":
                rtt = await self["xep_0199"].ping(jid=c["to"], timeout=10)
                emit(ev="ping", ok=True)
            elif c["cmd"] == "version":
                v = await self["xep_0092"].get_version(c["to"], timeout=10)
                emit(ev="version", name=v["software_version"]["name"], version=v["software_version"]["version"])
        except Exception as e:
            emit(ev=c["cmd"], ok=False, err=repr(e))

u = User(sys.argv[1], sys.argv[2])
u.connect((sys.argv[3], int(sys.argv[4])), disable_starttls=True, force_starttls=False)
u.loop.run_until_complete(asyncio.wait_for(u.disconnected, 300))

//! The media node's control routes, declared once: the functions build request paths from
//! them ([`Route::path`]) and the node serves them ([`Route::pattern`], axum's `{name}`
//! segments). Bodies are the types in [`crate::media`].

/// One control route: an HTTP method and a path pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub pattern: &'static str,
}

impl Route {
    const fn new(method: &'static str, pattern: &'static str) -> Self {
        Self { method, pattern }
    }

    /// The path with `args` in place of the pattern's `{…}` segments, in order. Ids are
    /// validated (URL-safe) before they get here.
    pub fn path(&self, args: &[&str]) -> String {
        let mut out = String::with_capacity(self.pattern.len() + 32);
        let mut args = args.iter();
        for seg in self.pattern.split('/').skip(1) {
            out.push('/');
            if seg.starts_with('{') {
                out.push_str(args.next().unwrap_or_else(|| panic!("{}: too few arguments", self.pattern)));
            } else {
                out.push_str(seg);
            }
        }
        assert!(args.next().is_none(), "{}: too many arguments", self.pattern);
        out
    }

    /// How many `{…}` segments the pattern has.
    pub fn arity(&self) -> usize {
        self.pattern.split('/').filter(|s| s.starts_with('{')).count()
    }
}

macro_rules! routes {
    ($($name:ident $method:literal $pattern:literal;)*) => {
        $(pub const $name: Route = Route::new($method, $pattern);)*
        /// Every control route.
        pub const ALL: &[Route] = &[$($name),*];
    };
}

routes! {
    CAPABILITIES "GET" "/v1/capabilities";
    STATS "GET" "/v1/stats";
    NODE_INFO "GET" "/v1/node";
    ROOM_CREATE "PUT" "/v1/rooms/{room}";
    ROOM_GET "GET" "/v1/rooms/{room}";
    ROOM_CLOSE "DELETE" "/v1/rooms/{room}";
    PARTICIPANT_JOIN "PUT" "/v1/rooms/{room}/participants/{participant}";
    PARTICIPANT_LEAVE "DELETE" "/v1/rooms/{room}/participants/{participant}";
    PARTICIPANT_QUALITY "PUT" "/v1/rooms/{room}/participants/{participant}/quality";
    TRANSPORT_CREATE "POST" "/v1/rooms/{room}/participants/{participant}/transports";
    TRANSPORT_ANSWER "POST" "/v1/rooms/{room}/participants/{participant}/transports/{transport}/answer";
    TRANSPORT_RESTART_ICE "POST" "/v1/rooms/{room}/participants/{participant}/transports/{transport}/restart-ice";
    PRODUCER_CREATE "POST" "/v1/rooms/{room}/participants/{participant}/producers";
    PRODUCER_CLOSE "DELETE" "/v1/rooms/{room}/participants/{participant}/producers/{producer}";
    PRODUCER_PAUSE "POST" "/v1/rooms/{room}/participants/{participant}/producers/{producer}/pause";
    PRODUCER_RESUME "POST" "/v1/rooms/{room}/participants/{participant}/producers/{producer}/resume";
    CONSUMER_CREATE "POST" "/v1/rooms/{room}/participants/{participant}/consumers";
    CONSUMER_CLOSE "DELETE" "/v1/rooms/{room}/participants/{participant}/consumers/{consumer}";
    CONSUMER_PAUSE "POST" "/v1/rooms/{room}/participants/{participant}/consumers/{consumer}/pause";
    CONSUMER_RESUME "POST" "/v1/rooms/{room}/participants/{participant}/consumers/{consumer}/resume";
    CONSUMER_LAYERS "PUT" "/v1/rooms/{room}/participants/{participant}/consumers/{consumer}/layers";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_the_pattern_segments_in_order() {
        assert_eq!(PRODUCER_PAUSE.path(&["r1", "p1", "pr1"]), "/v1/rooms/r1/participants/p1/producers/pr1/pause");
        assert_eq!(CAPABILITIES.path(&[]), "/v1/capabilities");
        assert_eq!(PRODUCER_PAUSE.arity(), 3);
    }

    #[test]
    #[should_panic(expected = "too few")]
    fn a_missing_argument_is_a_bug_not_a_path() {
        ROOM_GET.path(&[]);
    }

    #[test]
    fn no_two_routes_share_a_method_and_pattern() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(ALL[i + 1..].iter().all(|b| a != b), "{a:?} twice");
            assert!(a.pattern.starts_with("/v1/"), "{a:?}");
        }
    }
}

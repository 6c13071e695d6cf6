//! The guide: how to use the SDK, topic by topic.
//!
#![doc = include_str!("docs/guide.md")]

pub mod authentication {
    #![doc = include_str!("docs/authentication.md")]
}

pub mod collections {
    #![doc = include_str!("docs/collections.md")]
}

pub mod tasks {
    #![doc = include_str!("docs/tasks.md")]
}

pub mod events {
    #![doc = include_str!("docs/events.md")]
}

pub mod live_state {
    #![doc = include_str!("docs/live_state.md")]
}

pub mod transfers {
    #![doc = include_str!("docs/transfers.md")]
}

pub mod errors {
    #![doc = include_str!("docs/errors.md")]
}

pub mod retries {
    #![doc = include_str!("docs/retries.md")]
}

pub mod timeouts {
    #![doc = include_str!("docs/timeouts.md")]
}

pub mod tls {
    #![doc = include_str!("docs/tls.md")]
}

pub mod testing {
    #![doc = include_str!("docs/testing.md")]
}

//! The message schema as a compile-time value, derived from the message types themselves.
//!
//! [`Schema::SHAPE`] is a 64-bit FNV-1a hash of a type's shape: for a struct or an enum its
//! name, then in declaration order each field's name and shape, each variant's name, kind
//! (unit, tuple, struct) and fields; for a primitive its kind and width (`u8` is not `u16`);
//! for an array its length, for a `heapless::Vec` its capacity, and the element's shape. The
//! message types implement it through `schema_types!` (in this module), which
//! wraps their definitions, so the hashed shape is the definition and cannot drift from it.
//!
//! [`fingerprint`] folds the shapes of the five body types (and the largest payload) into
//! the `u32` that peers exchange in `Hello`: [`SCHEMA_FINGERPRINT`](crate::SCHEMA_FINGERPRINT),
//! a constant computed by the compiler, so a device links nothing for it.
//!
//! Not seen: serde attributes. Only `#[serde(borrow)]` is used, which does not change the
//! bytes; one that does (`skip`, `with`) would need a schema change by hand.

use crate::MAX_PAYLOAD;

/// A type whose shape is part of the management schema.
pub trait Schema {
    /// Hash of the type's shape (see the module docs).
    const SHAPE: u64;
}

/// FNV-1a's offset basis: the hash of nothing.
#[doc(hidden)]
pub const START: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over `bytes`, continuing from `h`.
#[doc(hidden)]
pub const fn bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// A tag byte and a length-prefixed name (so no two sequences of names hash alike by
/// running into each other).
#[doc(hidden)]
pub const fn named(h: u64, tag: u8, name: &str) -> u64 {
    let h = bytes(h, &[tag]);
    let h = bytes(h, &(name.len() as u64).to_le_bytes());
    bytes(h, name.as_bytes())
}

/// A tag byte and a number (a length or a capacity).
#[doc(hidden)]
pub const fn number(h: u64, tag: u8, n: usize) -> u64 {
    bytes(bytes(h, &[tag]), &(n as u64).to_le_bytes())
}

/// A tag byte and a contained type's shape.
#[doc(hidden)]
pub const fn child(h: u64, tag: u8, shape: u64) -> u64 {
    bytes(bytes(h, &[tag]), &shape.to_le_bytes())
}

macro_rules! primitives {
    ($($t:ty),*) => {$(
        impl Schema for $t {
            const SHAPE: u64 = named(START, b'P', stringify!($t));
        }
    )*};
}
primitives!(bool, u8, u16, u32, u64, i8, i16, i32, i64);

impl Schema for &str {
    const SHAPE: u64 = named(START, b'P', "str");
}

impl Schema for &[u8] {
    const SHAPE: u64 = named(START, b'P', "bytes");
}

impl<T: Schema> Schema for Option<T> {
    const SHAPE: u64 = child(named(START, b'O', "option"), b'T', T::SHAPE);
}

impl<T: Schema, const N: usize> Schema for [T; N] {
    const SHAPE: u64 = child(number(named(START, b'A', "array"), b'N', N), b'T', T::SHAPE);
}

impl<T: Schema, const N: usize> Schema for heapless::Vec<T, N> {
    const SHAPE: u64 = child(number(named(START, b'L', "vec"), b'N', N), b'T', T::SHAPE);
}

impl<A: Schema, B: Schema> Schema for (A, B) {
    const SHAPE: u64 = child(
        child(named(START, b'U', "tuple"), b'T', A::SHAPE),
        b'T',
        B::SHAPE,
    );
}

/// The fingerprint of a schema whose body types (request, response, event, log, capture, in
/// [`Kind`](crate::Kind) order) have these shapes; see [`fingerprint`].
pub const fn fingerprint_of(bodies: [u64; 5]) -> u32 {
    let mut h = named(START, b'M', "sixgate management");
    let mut i = 0;
    while i < bodies.len() {
        h = child(h, b'K', bodies[i]);
        i += 1;
    }
    // The payload limit is part of the contract: a peer allowing larger frames would send
    // some this side refuses.
    h = number(h, b'N', MAX_PAYLOAD);
    (h ^ (h >> 32)) as u32
}

/// The fingerprint of this crate's message schema.
pub const fn fingerprint() -> u32 {
    use crate::msg::{Capture, Event, Log, Request, Response};
    fingerprint_of([
        Request::SHAPE,
        Response::SHAPE,
        Event::SHAPE,
        Log::SHAPE,
        Capture::SHAPE,
    ])
}

/// Defines one struct or enum (written as usual, attributes and docs included) and
/// implements [`Schema`] for it from its definition. Fields and variants may carry
/// attributes; generics are limited to one lifetime.
macro_rules! schema_types {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident $(<$lt:lifetime>)? {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name $(<$lt>)? {
            $( $(#[$fmeta])* $fvis $field : $fty ),*
        }

        impl $(<$lt>)? $crate::schema::Schema for $name $(<$lt>)? {
            const SHAPE: u64 = {
                use $crate::schema as s;
                let h = s::named(s::START, b'S', stringify!($name));
                $(
                    let h = s::named(h, b'F', stringify!($field));
                    let h = s::child(h, b'T', <$fty as s::Schema>::SHAPE);
                )*
                h
            };
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident $(<$lt:lifetime>)? {
            $(
                $(#[$vmeta:meta])*
                $variant:ident
                $( ( $( $(#[$tmeta:meta])* $tty:ty ),* $(,)? ) )?
                $( { $( $(#[$smeta:meta])* $sfield:ident : $sty:ty ),* $(,)? } )?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name $(<$lt>)? {
            $(
                $(#[$vmeta])*
                $variant
                $( ( $( $(#[$tmeta])* $tty ),* ) )?
                $( { $( $(#[$smeta])* $sfield : $sty ),* } )?
            ),*
        }

        impl $(<$lt>)? $crate::schema::Schema for $name $(<$lt>)? {
            const SHAPE: u64 = {
                use $crate::schema as s;
                let h = s::named(s::START, b'E', stringify!($name));
                $(
                    let h = s::named(h, b'V', stringify!($variant));
                    $(
                        let h = s::bytes(h, b"(");
                        $( let h = s::child(h, b'T', <$tty as s::Schema>::SHAPE); )*
                    )?
                    $(
                        let h = s::bytes(h, b"{");
                        $(
                            let h = s::named(h, b'F', stringify!($sfield));
                            let h = s::child(h, b'T', <$sty as s::Schema>::SHAPE);
                        )*
                    )?
                    let h = s::bytes(h, b";");
                )*
                h
            };
        }
    };
}
pub(crate) use schema_types;

#[cfg(test)]
mod tests;

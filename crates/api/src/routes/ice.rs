//! `GET /api/v1/ice-servers`: STUN and TURN for the caller's peer connections, TURN with
//! credentials minted for this user that expire (`stratus_core::ice`). Rate-limited per user:
//! a client asks once per session and again before expiry.

use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use stratus_core::ice;
use stratus_core::ratelimit::{self, ICE_SERVERS};
use stratus_protocol::ice::IceServersResponse;

pub async fn get(State(st): State<AppState>, AuthUser(me): AuthUser) -> Result<Json<IceServersResponse>, ApiError> {
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(ICE_SERVERS), now).await?;
    Ok(Json(ice::ice_servers(&st.ice, &me.user_id, now)))
}

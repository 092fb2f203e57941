"""What differs between the two API generations, behind one small seam each.

``skill`` is the API of the vendor's agent skill (tokens, ``/run_sse``); ``gateway`` the one its own CLI
speaks (dashboard API keys, projects, a chat WebSocket). Resources and the ``Session`` handle exist once
and ask the ``Api`` of their requestor for paths, envelopes, bodies and the chat transport.
"""

from __future__ import annotations

from .._config import Generation
from .base import Api


def api_for(generation: Generation) -> Api:
    if generation == "gateway":
        from .gateway import GatewayApi

        return GatewayApi()
    from .skill import SkillApi

    return SkillApi()


__all__ = ["Api", "api_for"]

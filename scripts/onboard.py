"""Finish Home Assistant's onboarding through its HTTP API, so a developer lands on a working UI.

Waits for Home Assistant to answer (the first start installs the frontend and takes minutes), then
creates the user, sets the core config and skips analytics. Does nothing if onboarding is done.
"""

import asyncio
import sys

import aiohttp

USER, PASSWORD = "dev", "meterhub"


async def main(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(900):
            try:
                async with session.get(f"{base}/api/onboarding") as response:
                    if response.status == 200:
                        steps = await response.json()
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
        else:
            sys.exit("Home Assistant did not come up within 15 minutes")
        if all(step["done"] for step in steps):
            print(f"Home Assistant is up: {base} (log in as {USER} / {PASSWORD})")
            return
        client_id = f"{base}/"
        async with session.post(
            f"{base}/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": "Developer",
                "username": USER,
                "password": PASSWORD,
                "language": "en",
            },
        ) as response:
            response.raise_for_status()
            code = (await response.json())["auth_code"]
        async with session.post(
            f"{base}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        ) as response:
            response.raise_for_status()  # the new user can log in
        print(f"Home Assistant is up: {base} (log in as {USER} / {PASSWORD})")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8123"))

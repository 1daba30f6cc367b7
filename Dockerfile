# rolebot: the console chat by default; the Telegram bot when TELEGRAM_BOT_TOKEN is set.
FROM python:3.11-slim
WORKDIR /app
COPY . .
# The README's install step, verbatim.
RUN python3 -m venv .venv && .venv/bin/pip install -q -e .
ENV PATH="/app/.venv/bin:$PATH" \
    ROLEBOT_DATA_DIR=/app/data
# Runtime state (question log, history) and the knowledge operators add must outlive the container.
VOLUME ["/app/data", "/app/knowledge"]
CMD ["sh", "-c", "if [ -n \"${TELEGRAM_BOT_TOKEN:-}\" ]; then exec rolebot telegram; else exec rolebot chat; fi"]

# syntax=docker/dockerfile:1

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY Directory.Build.props Directory.Packages.props ./
COPY src/WxkfManager.Crypto/WxkfManager.Crypto.csproj src/WxkfManager.Crypto/
COPY src/WxkfManager/WxkfManager.csproj src/WxkfManager/
RUN dotnet restore src/WxkfManager/WxkfManager.csproj
COPY src/ src/
RUN dotnet publish src/WxkfManager/WxkfManager.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
# The image's built-in non-root user ("app", uid 1654) owns the data and log directories.
RUN mkdir -p /data /logs && chown -R $APP_UID /data /logs
USER $APP_UID
# .NET's images set ASPNETCORE_HTTP_PORTS=8080; the service deliberately listens on PORT instead when PORT is
# set, so EXPOSE, the health check and the compose port mappings all say 3000.
# DOTNET_TC_CallCountingDelayMs=0: with one CPU (a container limit of 1 counts) .NET waits for a full second without
# new code before it starts promoting hot methods, which a busy service rarely has; it ran at 2× the CPU per
# callback for over 100,000 callbacks (docs/benchmarks.md, "The JIT on one core").
ENV PORT=3000 \
    DATA_DIR=/data \
    LOG_PATH=/logs \
    DOTNET_gcServer=0 \
    DOTNET_TC_CallCountingDelayMs=0
EXPOSE 3000
VOLUME ["/data", "/logs"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl --fail --silent "http://127.0.0.1:${PORT}/ready" || exit 1
ENTRYPOINT ["dotnet", "WxkfManager.dll"]
